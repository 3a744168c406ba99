using System.Numerics;
using Orleans.Concurrency;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Orleans;

/// <summary>
/// The synchronous all-reduce grain: an <see cref="AllReduceCore{T}"/>. It is reentrant, so a
/// contribution can wait for the round to fill while the others arrive; Orleans still runs one
/// turn at a time, so the core needs no lock. Its rounds are not persisted: synchronous training
/// that loses the grain's silo mid-round resumes from a checkpoint.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
[Reentrant]
public sealed class AllReduceGrain<T> : Grain, IAllReduceGrain<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private AllReduceCore<T>? _core;
    private int _deadline;

    /// <inheritdoc/>
    public Task<int> Initialize(int workerCount, int roundDeadlineMilliseconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(roundDeadlineMilliseconds);
        if (_core is null)
            _deadline = roundDeadlineMilliseconds;
        else if (_deadline != roundDeadlineMilliseconds)
            throw new ArgumentException($"The all-reduce \"{this.GetPrimaryKeyString()}\" has a round deadline of {_deadline} ms, not {roundDeadlineMilliseconds}.", nameof(roundDeadlineMilliseconds));
        return Initialize(workerCount);
    }

    /// <inheritdoc/>
    public Task<int[]> Members() => Task.FromResult(_core is null ? [] : _core.Members.ToArray());

    /// <inheritdoc/>
    public Task<int> Initialize(int workerCount)
    {
        _core ??= new AllReduceCore<T>(workerCount);
        if (_core.WorkerCount != workerCount)
            throw new ArgumentException($"The all-reduce \"{this.GetPrimaryKeyString()}\" has {_core.WorkerCount} workers, not {workerCount}.", nameof(workerCount));
        return Task.FromResult(_core.WorkerCount);
    }

    /// <inheritdoc/>
    public async Task<AllReduceAnswer> Contribute(MessageStamp stamp, int rows, PackedTensors gradients)
    {
        var core = _core ?? throw new InvalidOperationException($"The all-reduce \"{this.GetPrimaryKeyString()}\" has no worker count yet: call Initialize first.");
        // Read in place: the core copies what it keeps.
        var round = core.Contribute(stamp, rows, gradients.View<T>(), out bool opened);
        if (opened && _deadline > 0)
            _ = ExpireAfter(core, stamp.Sequence);
        var result = await round;
        // The sum goes back as the contributions came (every worker of a run sends at the same precision).
        return new AllReduceAnswer(result.Rows, PackedTensors.Pack<T>([.. result.Sum.Select(s => (ReadOnlyMemory<T>)s)], gradients.Precision));
    }

    /// <summary>Waits out the round's deadline on the grain's scheduler, then completes it without whoever is missing.</summary>
    private async Task ExpireAfter(AllReduceCore<T> core, long sequence)
    {
        await Task.Delay(_deadline);
        core.Expire(sequence);
    }
}
