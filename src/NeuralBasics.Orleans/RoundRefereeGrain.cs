using Orleans.Concurrency;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Orleans;

/// <summary>
/// The round referee grain: a <see cref="RoundRefereeCore"/>, reentrant so a report can wait for the
/// others while they arrive (Orleans still runs one turn at a time, so the core needs no lock). Not
/// persisted: a run that loses the referee's silo mid-round resumes from a checkpoint.
/// </summary>
[Reentrant]
public sealed class RoundRefereeGrain : Grain, IRoundRefereeGrain
{
    private RoundRefereeCore? _core;
    private int _deadline;

    /// <inheritdoc/>
    public Task<int> Initialize(int workerCount, int decisionDeadlineMilliseconds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(decisionDeadlineMilliseconds, 1);
        if (_core is null)
        {
            _core = new RoundRefereeCore(workerCount);
            _deadline = decisionDeadlineMilliseconds;
        }
        if (_core.WorkerCount != workerCount)
            throw new ArgumentException($"The referee \"{this.GetPrimaryKeyString()}\" has {_core.WorkerCount} workers, not {workerCount}.", nameof(workerCount));
        if (_deadline != decisionDeadlineMilliseconds)
            throw new ArgumentException($"The referee \"{this.GetPrimaryKeyString()}\" waits {_deadline} ms, not {decisionDeadlineMilliseconds}.", nameof(decisionDeadlineMilliseconds));
        return Task.FromResult(_core.WorkerCount);
    }

    /// <inheritdoc/>
    public async Task<RefereeAnswer> Report(MessageStamp stamp, int attempt, bool completed)
    {
        var core = _core ?? throw new InvalidOperationException($"The referee \"{this.GetPrimaryKeyString()}\" has no worker count yet: call Initialize first.");
        var decision = core.Report(stamp, attempt, completed, out bool opened);
        if (opened)
            _ = ExpireAfter(core, stamp.Sequence, attempt);
        var result = await decision;
        return new RefereeAnswer(result.Commit, [.. result.Members]);
    }

    /// <inheritdoc/>
    public Task<int[]> Members() => Task.FromResult(_core is null ? [] : _core.Members.ToArray());

    /// <summary>Waits out the attempt's deadline on the grain's scheduler, then decides it with the reports it has.</summary>
    private async Task ExpireAfter(RoundRefereeCore core, long round, int attempt)
    {
        await Task.Delay(_deadline);
        core.Expire(round, attempt);
    }
}
