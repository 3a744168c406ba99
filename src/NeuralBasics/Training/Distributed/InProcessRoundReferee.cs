namespace NeuralBasics.Training.Distributed;

/// <summary>The round referee of a peer all-reduce among threads of this process: a <see cref="RoundRefereeCore"/> behind one lock, with its deadlines on timers.</summary>
public sealed class InProcessRoundReferee : IRoundReferee
{
    private readonly RoundRefereeCore _core;
    private readonly Lock _lock = new();

    /// <summary>
    /// A referee for <paramref name="workerCount"/> workers that decides an attempt at most
    /// <paramref name="decisionDeadline"/> after its first report (once every worker has reported once).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The deadline is not positive.</exception>
    public InProcessRoundReferee(int workerCount, TimeSpan decisionDeadline)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(decisionDeadline, TimeSpan.Zero);
        _core = new RoundRefereeCore(workerCount);
        DecisionDeadline = decisionDeadline;
    }

    /// <summary>How long an attempt waits for reports after its first.</summary>
    public TimeSpan DecisionDeadline { get; }

    /// <summary>The workers still taking part, in id order.</summary>
    public IReadOnlyList<int> Members
    {
        get
        {
            lock (_lock)
                return [.. _core.Members];
        }
    }

    /// <inheritdoc/>
    public async ValueTask<RoundDecision> ReportAsync(MessageStamp stamp, int attempt, bool completed, CancellationToken cancellationToken = default)
    {
        Task<RoundDecision> decision;
        bool opened;
        lock (_lock)
            decision = _core.Report(stamp, attempt, completed, out opened);
        if (opened)
            _ = ExpireAfter(stamp.Sequence, attempt);
        return await decision.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task ExpireAfter(long round, int attempt)
    {
        await Task.Delay(DecisionDeadline).ConfigureAwait(false);
        lock (_lock)
            _core.Expire(round, attempt);
    }
}
