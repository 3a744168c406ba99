using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Training;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Tests.Training;

/// <summary>The round referee's rule, and the ring and scatter-gather all-reduces going on without a worker that went silent.</summary>
public class RoundRefereeTests
{
    private static MessageStamp Stamp(int worker, long round) => new(worker, round);

    private static void Discard(Task<RoundDecision> decision) => Assert.NotNull(decision);

    [Fact]
    public async Task EveryMemberWithTheSum_Commits_AndOneWithout_MakesAllTryAgain()
    {
        var core = new RoundRefereeCore(3);
        var first = core.Report(Stamp(0, 1), 0, true, out bool opened);
        Assert.True(opened);
        _ = core.Report(Stamp(2, 1), 0, true, out opened);
        Assert.False(opened);
        Assert.False(first.IsCompleted);
        var last = core.Report(Stamp(1, 1), 0, true, out _);
        Assert.True((await last).Commit);
        Assert.Equal([0, 1, 2], (await first).Members);

        var again = core.Report(Stamp(0, 2), 0, false, out _);
        _ = core.Report(Stamp(1, 2), 0, true, out _);
        _ = core.Report(Stamp(2, 2), 0, true, out _);
        Assert.False((await again).Commit);
        Assert.Equal([0, 1, 2], (await again).Members);
        // A repeated report (a retried call) gets the same decision.
        Assert.Same((await again), (await core.Report(Stamp(1, 2), 0, true, out _)));
    }

    [Fact]
    public async Task AtTheDeadline_SilentMembersAreDropped_TheRoundIsRedoneWithoutThem_AndTheirReportsRefused()
    {
        var core = new RoundRefereeCore(3);
        // Before every worker has reported once, a deadline drops nobody: a slow start is not a death.
        var waiting = core.Report(Stamp(0, 1), 0, true, out _);
        Assert.Empty(core.Expire(1, 0));
        Assert.False(waiting.IsCompleted);
        _ = core.Report(Stamp(1, 1), 0, true, out _);
        _ = core.Report(Stamp(2, 1), 0, true, out _);
        Assert.True((await waiting).Commit);

        // Round 2: worker 2 went silent mid-exchange; 0 finished before it died, 1 did not.
        var zero = core.Report(Stamp(0, 2), 0, true, out _);
        var one = core.Report(Stamp(1, 2), 0, false, out _);
        Assert.Equal([2], core.Expire(2, 0));
        Assert.Equal([0, 1], (await zero).Members);
        Assert.False((await zero).Commit);
        Assert.Same((await zero), (await one));
        Assert.Equal([0, 1], core.Members);
        Assert.Equal((2L, 0), core.Dropped[2]);
        var refused = Assert.Throws<InvalidOperationException>(() => Discard(core.Report(Stamp(2, 2), 0, true, out _)));
        Assert.Contains("dropped", refused.Message);

        // The redo among the two commits without waiting for anyone else.
        _ = core.Report(Stamp(0, 2), 1, true, out _);
        Assert.True((await core.Report(Stamp(1, 2), 1, true, out _)).Commit);

        // A member that goes silent after every reporter got the sum: the round stands, the member is dropped.
        var last = core.Report(Stamp(0, 3), 0, true, out _);
        Assert.Equal([1], core.Expire(3, 0));
        Assert.True((await last).Commit);
        Assert.Equal([0], (await last).Members);
    }

    [Fact]
    public async Task AReportOnAnAttemptDecidedAndForgotten_IsRefused_NotOpenedAgain()
    {
        var core = new RoundRefereeCore(1);
        for (long round = 1; round <= RoundRefereeCore.DecisionsKept + 1; round++)
            Assert.True((await core.Report(Stamp(0, round), 0, true, out _)).Commit);
        // Round 2's decision is still kept and answered; round 1's is forgotten.
        Assert.True((await core.Report(Stamp(0, 2), 0, true, out _)).Commit);
        Assert.Contains("too long ago", Assert.Throws<InvalidOperationException>(() => Discard(core.Report(Stamp(0, 1), 0, true, out _))).Message);
    }

    [Fact]
    public void BadReports_AreRefused()
    {
        var core = new RoundRefereeCore(2);
        Assert.Throws<ArgumentException>(() => Discard(core.Report(Stamp(2, 1), 0, true, out _)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Discard(core.Report(Stamp(0, 1), -1, true, out _)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new InProcessRoundReferee(2, TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RingAllReduce<double>(new InProcessRingNetwork<double>(), 2, new InProcessRoundReferee(2, TimeSpan.FromSeconds(1)), TimeSpan.Zero));
    }

    private static IGradientAllReduce<double> Peers(string kind, int workers, IRoundReferee referee, TimeSpan deadline) => kind == "ring"
        ? new RingAllReduce<double>(new InProcessRingNetwork<double>(), workers, referee, deadline)
        : new ScatterAllReduce<double>(new InProcessRingNetwork<double>(), workers, referee, deadline);

    /// <summary>
    /// Worker 2 takes part in round 1 and never comes to round 2: the other two give up on the
    /// exchange at the deadline, the referee drops worker 2, and they redo round 2 between themselves —
    /// the sum of their two contributions, exact, with their rows only.
    /// </summary>
    [Theory(Timeout = 60_000)]
    [InlineData("ring")]
    [InlineData("scatter")]
    public async Task AWorkerThatNeverComes_IsDropped_AndTheOthersSumWithoutIt(string kind)
    {
        var referee = new InProcessRoundReferee(3, TimeSpan.FromMilliseconds(400));
        var peers = Peers(kind, 3, referee, TimeSpan.FromMilliseconds(200));
        double[][] round1 = [[1, 2, 3, 4, 5], [10, 20, 30, 40, 50], [100, 200, 300, 400, 500]];
        int[] totals = await Task.WhenAll(Enumerable.Range(0, 3).Select(w => peers.AllReduceAsync(Stamp(w, 1), w + 1, [round1[w]]).AsTask()));
        Assert.All(totals, t => Assert.Equal(6, t));
        Assert.All(round1, b => Assert.Equal([111.0, 222, 333, 444, 555], b));

        double[][] round2 = [[0.5, 1, 1.5, 2, 2.5], [0.25, 0.5, 0.75, 1, 1.25]];
        totals = await Task.WhenAll(Enumerable.Range(0, 2).Select(w => peers.AllReduceAsync(Stamp(w, 2), 7, [round2[w]]).AsTask()));
        Assert.All(totals, t => Assert.Equal(14, t));
        Assert.All(round2, b => Assert.Equal([0.75, 1.5, 2.25, 3, 3.75], b));
        Assert.Equal([0, 1], referee.Members);
        var dropped = await Assert.ThrowsAsync<InvalidOperationException>(async () => await peers.AllReduceAsync(Stamp(2, 2), 1, [new double[5]]));
        Assert.Contains("dropped", dropped.Message);

        // Round 3 among the two: no deadline passes, one attempt.
        double[][] round3 = [[1, 1, 1, 1, 1], [2, 2, 2, 2, 2]];
        await Task.WhenAll(Enumerable.Range(0, 2).Select(w => peers.AllReduceAsync(Stamp(w, 3), 1, [round3[w]]).AsTask()));
        Assert.All(round3, b => Assert.Equal([3.0, 3, 3, 3, 3], b));
    }

    /// <summary>
    /// Synchronous training of three thread workers through a refereed ring or scatter-gather, one of
    /// them stopped mid-run: the two others finish every epoch with the same bits, and the referee
    /// names them as the members.
    /// </summary>
    [Theory(Timeout = 120_000)]
    [InlineData("ring")]
    [InlineData("scatter")]
    public async Task AWorkerStoppedMidRun_TheOthersFinishTogether(string kind)
    {
        var data = SyntheticData.Spiral<double>(60, 3, seed: 7);
        var start = new NetworkBuilder<double>(2, seed: 1).Dense(7, new Relu()).Dense(3).Build();
        // Generous for two loaded cores: a live worker must never be taken for dead.
        var referee = new InProcessRoundReferee(3, TimeSpan.FromSeconds(4));
        var peers = Peers(kind, 3, referee, TimeSpan.FromSeconds(2));
        var replicas = Enumerable.Range(0, 3).Select(_ => start.Clone()).ToArray();
        var options = new SynchronousOptions { Epochs = 4, BatchSize = 8, Seed = 2 };
        using var stop = new CancellationTokenSource();
        var runs = Enumerable.Range(0, 3).Select(w => Task.Run(() =>
            new SynchronousWorker<double>(new TrainingSetup<double>(replicas[w], SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.02)), peers, w, options)
                .RunAsync(data, Enumerable.Range(0, data.Count).Where(i => i % 3 == w).ToArray(),
                    w == 2 ? new SyncProgress(_ => stop.Cancel()) : null, w == 2 ? stop.Token : CancellationToken.None))).ToArray();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runs[2]);
        var reports = await Task.WhenAll(runs.Take(2));

        Assert.All(reports, r => Assert.Equal(options.Epochs, r.Epoch));
        Assert.Equal([0, 1], referee.Members);
        double[] Values(IScoreFunction<double> s) => [.. s.Parameters.SelectMany(p => p.Value.Span.ToArray())];
        Assert.Equal(Values(replicas[0]), Values(replicas[1]));
        Assert.NotEqual(Values(start), Values(replicas[0]));
        Assert.All(Values(replicas[0]), v => Assert.True(double.IsFinite(v)));
    }

    private sealed class SyncProgress(Action<WorkerReport> action) : IProgress<WorkerReport>
    {
        public void Report(WorkerReport value) => action(value);
    }
}
