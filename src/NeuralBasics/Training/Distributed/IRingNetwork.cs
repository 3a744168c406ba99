using System.Numerics;

namespace NeuralBasics.Training.Distributed;

/// <summary>
/// The links of a <see cref="RingAllReduce{T}"/> or <see cref="ScatterAllReduce{T}"/>: each worker
/// has a mailbox the other workers deliver to (in the ring, only the worker before it). <see cref="InProcessRingNetwork{T}"/> keeps the mailboxes in this process; the
/// companion package NeuralBasics.Orleans keeps each in a grain its worker owns.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
public interface IRingNetwork<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Delivers <paramref name="values"/> and a row count to <paramref name="worker"/>'s mailbox under <paramref name="key"/>; a repeated delivery of the same key is ignored.</summary>
    ValueTask SendAsync(int worker, RingKey key, int rows, ReadOnlyMemory<T> values, CancellationToken cancellationToken = default);

    /// <summary>Waits for the message <paramref name="key"/> in <paramref name="worker"/>'s mailbox and takes it out.</summary>
    ValueTask<(int Rows, T[] Values)> ReceiveAsync(int worker, RingKey key, CancellationToken cancellationToken = default);
}
