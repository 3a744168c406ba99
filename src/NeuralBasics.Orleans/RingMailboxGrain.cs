using System.Numerics;
using Orleans.Concurrency;

namespace NeuralBasics.Orleans;

/// <summary>
/// A worker's ring mailbox: reentrant, so a receive can wait while deliveries arrive. Holds only
/// messages in flight (at most two per chunk of the rounds under way) and remembers the keys taken
/// in the last rounds, so a delivery retried after its receive is ignored.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
[Reentrant]
public sealed class RingMailboxGrain<T> : Grain, IRingMailboxGrain<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The rounds whose taken keys are remembered.</summary>
    private const int RoundsRemembered = 4;

    private readonly Dictionary<(long, int, int), TaskCompletionSource<RingDelivery>> _slots = [];
    private readonly HashSet<(long, int, int)> _taken = [];

    /// <inheritdoc/>
    public Task Deliver(long round, int phase, int chunk, RingDelivery message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!_taken.Contains((round, phase, chunk)))
            Slot((round, phase, chunk)).TrySetResult(message);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<string> Open() => Task.FromResult(RuntimeIdentity);

    /// <inheritdoc/>
    public async Task<RingDelivery> Receive(long round, int phase, int chunk, CancellationToken cancellationToken = default)
    {
        var key = (round, phase, chunk);
        var message = await Slot(key).Task.WaitAsync(cancellationToken);
        if (_slots.Remove(key))
        {
            _taken.Add(key);
            _taken.RemoveWhere(k => k.Item1 < round - RoundsRemembered);
        }
        return message;
    }

    private TaskCompletionSource<RingDelivery> Slot((long, int, int) key)
    {
        if (!_slots.TryGetValue(key, out var slot))
            _slots[key] = slot = new TaskCompletionSource<RingDelivery>(TaskCreationOptions.RunContinuationsAsynchronously);
        return slot;
    }
}
