using System.Numerics;
using NeuralBasics.Optimizers;

namespace NeuralBasics.Training.Distributed;

/// <summary>
/// A parameter server as a Downpour worker sees it: fetch the current parameters, push accumulated
/// gradients. The in-process implementation is a lock around arrays and update-rule states; a
/// distributed engine would carry the same two messages (see docs/distributed-training.md).
/// </summary>
public interface IParameterServer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Copies the current parameters into <paramref name="destination"/> (one span per tensor).</summary>
    void Fetch(IReadOnlyList<Memory<T>> destination);

    /// <summary>Applies the server's update rule to its parameters with these gradients (one per tensor).</summary>
    void Push(IReadOnlyList<ReadOnlyMemory<T>> gradients);
}
