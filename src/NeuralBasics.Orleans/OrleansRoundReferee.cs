using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Orleans;

/// <summary>The <see cref="IRoundReferee"/> workers in any process use to reach the run's <see cref="IRoundRefereeGrain"/>.</summary>
/// <example>
/// <code>
/// var referee = await OrleansRoundReferee.JoinAsync(client, "fashion-sync", workers, TimeSpan.FromSeconds(10));
/// var allReduce = new ScatterAllReduce&lt;float&gt;(new OrleansRingNetwork&lt;float&gt;(client, "fashion-sync"), workers, referee, TimeSpan.FromSeconds(5));
/// </code>
/// </example>
public sealed class OrleansRoundReferee : IRoundReferee
{
    private readonly IRoundRefereeGrain _grain;
    private readonly RetryPolicy _retry;

    private OrleansRoundReferee(IRoundRefereeGrain grain, RetryPolicy retry)
    {
        _grain = grain;
        _retry = retry;
    }

    /// <summary>
    /// Joins the referee of the run <paramref name="run"/> among <paramref name="workerCount"/> workers,
    /// deciding an attempt at most <paramref name="decisionDeadline"/> after its first report (every
    /// worker passes the same values: twice the all-reduce's round deadline, so a worker whose exchange
    /// gave up at its deadline still reports in time).
    /// </summary>
    /// <exception cref="ArgumentException">The run already has another worker count or deadline.</exception>
    public static async Task<OrleansRoundReferee> JoinAsync(IGrainFactory grains, string run, int workerCount, TimeSpan decisionDeadline,
        RetryPolicy? retry = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentException.ThrowIfNullOrEmpty(run);
        ArgumentOutOfRangeException.ThrowIfLessThan(workerCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(decisionDeadline, TimeSpan.Zero);
        retry ??= RetryPolicy.Default;
        var grain = grains.GetGrain<IRoundRefereeGrain>(run);
        int milliseconds = (int)Math.Min(int.MaxValue, Math.Ceiling(decisionDeadline.TotalMilliseconds));
        await retry.Run(() => grain.Initialize(workerCount, milliseconds), cancellationToken).ConfigureAwait(false);
        return new OrleansRoundReferee(grain, retry);
    }

    /// <summary>The workers still taking part, in id order.</summary>
    public Task<int[]> MembersAsync() => _grain.Members();

    /// <inheritdoc/>
    public async ValueTask<RoundDecision> ReportAsync(MessageStamp stamp, int attempt, bool completed, CancellationToken cancellationToken = default)
    {
        var answer = await _retry.Run(() => _grain.Report(stamp, attempt, completed), cancellationToken).ConfigureAwait(false);
        return new RoundDecision(answer.Commit, answer.Members);
    }
}
