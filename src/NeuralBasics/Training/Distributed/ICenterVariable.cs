using System.Numerics;

namespace NeuralBasics.Training.Distributed;

/// <summary>
/// The shared center variable x̃ of elastic averaging, as an EASGD worker sees it, made for a
/// network: one asynchronous call moves the worker's parameters and the center toward each other
/// for every tensor at once, stamped so that a repeated exchange moves the center only once.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
public interface ICenterVariable<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// The elastic exchange, atomic with respect to other workers: for every tensor, with
    /// <c>d = x − x̃</c>, <c>x ← x − α·d</c> (written back into <paramref name="parameters"/>) and
    /// <c>x̃ ← x̃ + α·d</c>. A repeat of the last exchange changes only <paramref name="parameters"/>,
    /// to what the first one made of them; an older one changes nothing.
    /// </summary>
    ValueTask<ExchangeReply> ExchangeAsync(MessageStamp stamp, T alpha, IReadOnlyList<Memory<T>> parameters, CancellationToken cancellationToken = default);

    /// <summary>Copies the center into <paramref name="destination"/> (one buffer per tensor) and returns its version.</summary>
    ValueTask<long> ReadAsync(IReadOnlyList<Memory<T>> destination, CancellationToken cancellationToken = default);
}
