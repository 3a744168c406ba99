using System.Numerics;

namespace NeuralBasics.Training.Distributed;

/// <summary>
/// A parameter server as a Downpour worker sees it, made for a network: one asynchronous call per
/// exchange, carrying every tensor; each message stamped (<see cref="MessageStamp"/>) so a repeated
/// push is applied once and pushes that arrive out of order are applied in order; each reply
/// carrying the parameters' version, so the server can bound staleness (<see cref="StalenessBound"/>).
/// </summary>
/// <remarks>
/// <see cref="InProcessParameterServer{T}"/> keeps the state in this process; the companion package
/// NeuralBasics.Orleans keeps it in a grain that workers in other processes and on other machines
/// call. Both apply the same <see cref="ParameterServerCore{T}"/>.
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
public interface IParameterServer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Copies the current parameters into <paramref name="destination"/> (one buffer per tensor)
    /// and returns their version. Reads change nothing, so a repeated fetch is harmless.
    /// </summary>
    ValueTask<long> FetchAsync(MessageStamp stamp, IReadOnlyList<Memory<T>> destination, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends accumulated <paramref name="gradients"/> (one per tensor), computed on parameters of
    /// <paramref name="baseVersion"/>; the server applies its update rule with them once, in
    /// sequence order per worker. The buffers may be reused as soon as the call completes.
    /// </summary>
    ValueTask<ExchangeReply> PushAsync(MessageStamp stamp, long baseVersion, IReadOnlyList<ReadOnlyMemory<T>> gradients,
        CancellationToken cancellationToken = default);
}
