using System.Numerics;

namespace NeuralBasics.Training.Distributed;

/// <summary>
/// The shared center variable x̃ of elastic averaging, as a worker sees it: one call moves the
/// worker's parameters and the center toward each other. The in-process implementation is a lock
/// around arrays; a distributed engine would send the worker's parameters and receive the center
/// (see docs/distributed-training.md), and the update math would not change.
/// </summary>
public interface ICenterVariable<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// The elastic exchange for one parameter tensor, atomically with respect to other workers:
    /// with <c>d = x − x̃</c>, <c>x ← x − α·d</c> and <c>x̃ ← x̃ + α·d</c>.
    /// </summary>
    void Exchange(int tensor, Span<T> local, T alpha);

    /// <summary>Copies the center of every tensor into <paramref name="destination"/> (one span per tensor).</summary>
    void Read(IReadOnlyList<Memory<T>> destination);
}
