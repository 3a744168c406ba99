using System.Collections.Concurrent;
using System.Numerics;

namespace NeuralBasics.Training.Distributed;

/// <summary>The mailboxes of a <see cref="RingAllReduce{T}"/> whose workers are threads of this process.</summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class InProcessRingNetwork<T> : IRingNetwork<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ConcurrentDictionary<(int Worker, RingKey Key), TaskCompletionSource<(int, T[])>> _mail = new();

    /// <inheritdoc/>
    public ValueTask SendAsync(int worker, RingKey key, int rows, ReadOnlyMemory<T> values, CancellationToken cancellationToken = default)
    {
        Slot(worker, key).TrySetResult((rows, values.ToArray()));
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public async ValueTask<(int Rows, T[] Values)> ReceiveAsync(int worker, RingKey key, CancellationToken cancellationToken = default)
    {
        var message = await Slot(worker, key).Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        _mail.TryRemove((worker, key), out _);
        return message;
    }

    private TaskCompletionSource<(int, T[])> Slot(int worker, RingKey key) =>
        _mail.GetOrAdd((worker, key), _ => new TaskCompletionSource<(int, T[])>(TaskCreationOptions.RunContinuationsAsynchronously));
}
