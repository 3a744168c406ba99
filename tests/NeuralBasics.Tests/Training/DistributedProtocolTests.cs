using NeuralBasics.Data;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Scoring;
using NeuralBasics.Training;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Tests.Training;

/// <summary>
/// The messages between distributed workers and the shared state: repeats applied once, reordered
/// pushes applied in order, staleness bounded as configured, snapshots restored, the all-reduce
/// summing in worker order, and synchronous workers equal to one worker.
/// </summary>
public class DistributedProtocolTests
{
    private static ReadOnlyMemory<double>[] Tensors(params double[][] values) => [.. values.Select(v => (ReadOnlyMemory<double>)v)];

    private static double[][] Fetched(ParameterServerCore<double> server)
    {
        double[][] values = [.. server.Parameters.Select(p => new double[p.Length])];
        server.Fetch([.. values.Select(v => (Memory<double>)v)]);
        return values;
    }

    private static readonly double[][] Start = [[1.0, -2.0, 0.5], [0.25]];
    private static readonly double[][][] Gradients =
    [
        [[0.3, -0.1, 0.2], [1.0]],
        [[-0.5, 0.4, 0.1], [-2.0]],
        [[0.2, 0.2, -0.7], [0.5]],
        [[0.9, -0.3, 0.0], [0.1]],
    ];

    [Fact]
    public void ARepeatedPushIsAppliedOnce()
    {
        var once = new ParameterServerCore<double>(Tensors(Start), new Adam(0.1));
        var twice = new ParameterServerCore<double>(Tensors(Start), new Adam(0.1));
        for (int s = 0; s < Gradients.Length; s++)
        {
            var stamp = new MessageStamp(3, s + 1);
            Assert.Equal(ExchangeStatus.Applied, once.Push(stamp, s, Tensors(Gradients[s])).Status);
            Assert.Equal(ExchangeStatus.Applied, twice.Push(stamp, s, Tensors(Gradients[s])).Status);
            var repeat = twice.Push(stamp, s, Tensors(Gradients[s]));
            Assert.Equal(new ExchangeReply(ExchangeStatus.Duplicate, s + 1), repeat);
        }
        Assert.Equal(Fetched(once), Fetched(twice));
        Assert.Equal(4, twice.Version);
        Assert.Equal(4, twice.DuplicatePushes);
    }

    [Fact]
    public void PushesArrivingOutOfOrderAreAppliedInOrder_SoAdamEndsBitForBitTheSame()
    {
        var inOrder = new ParameterServerCore<double>(Tensors(Start), new Adam(0.1));
        for (int s = 0; s < Gradients.Length; s++)
            inOrder.Push(new MessageStamp(0, s + 1), 0, Tensors(Gradients[s]));

        var shuffled = new ParameterServerCore<double>(Tensors(Start), new Adam(0.1));
        Assert.Equal(ExchangeStatus.Queued, shuffled.Push(new MessageStamp(0, 3), 0, Tensors(Gradients[2])).Status);
        Assert.Equal(ExchangeStatus.Queued, shuffled.Push(new MessageStamp(0, 2), 0, Tensors(Gradients[1])).Status);
        Assert.Equal(ExchangeStatus.Duplicate, shuffled.Push(new MessageStamp(0, 3), 0, Tensors(Gradients[2])).Status);
        Assert.Equal(0, shuffled.Version);
        Assert.Equal(Start, Fetched(shuffled));
        var reply = shuffled.Push(new MessageStamp(0, 1), 0, Tensors(Gradients[0]));
        Assert.Equal(ExchangeStatus.Applied, reply.Status);
        Assert.Equal(3, reply.Version);
        shuffled.Push(new MessageStamp(0, 4), 0, Tensors(Gradients[3]));

        Assert.Equal(Fetched(inOrder), Fetched(shuffled));
        // Adam does not commute: the same pushes in the order they arrived end elsewhere.
        var asArrived = new ParameterServerCore<double>(Tensors(Start), new Adam(0.1));
        foreach (int s in new[] { 2, 1, 0, 3 })
            asArrived.Push(new MessageStamp(1, asArrived.Version + 1), 0, Tensors(Gradients[s]));
        Assert.NotEqual(Fetched(inOrder), Fetched(asArrived));
    }

    [Fact]
    public void EachWorkerHasItsOwnSequence()
    {
        var server = new ParameterServerCore<double>(Tensors(Start), new Sgd(1));
        Assert.Equal(ExchangeStatus.Applied, server.Push(new MessageStamp(0, 1), 0, Tensors(Gradients[0])).Status);
        Assert.Equal(ExchangeStatus.Applied, server.Push(new MessageStamp(1, 1), 0, Tensors(Gradients[1])).Status);
        Assert.Equal(ExchangeStatus.Queued, server.Push(new MessageStamp(2, 2), 0, Tensors(Gradients[2])).Status);
        Assert.Equal(2, server.Version);
        // SGD at rate 1: start − g₀ − g₁.
        Assert.Equal([1.0 - 0.3 + 0.5, -2.0 + 0.1 - 0.4, 0.5 - 0.2 - 0.1], Fetched(server)[0], new Tolerance(1e-15));
    }

    [Fact]
    public void AStalePushIsRejectedBeyondTheBound_AndChangesNothing()
    {
        var server = new ParameterServerCore<double>(Tensors(Start), new Sgd(1), new StalenessBound(1));
        Assert.Equal(new ExchangeReply(ExchangeStatus.Applied, 1, 0), server.Push(new MessageStamp(0, 1), 0, Tensors(Gradients[0])));
        Assert.Equal(new ExchangeReply(ExchangeStatus.Applied, 2, 1), server.Push(new MessageStamp(1, 1), 0, Tensors(Gradients[1])));
        var before = Fetched(server);
        Assert.Equal(new ExchangeReply(ExchangeStatus.RejectedStale, 2, 2), server.Push(new MessageStamp(1, 2), 0, Tensors(Gradients[2])));
        Assert.Equal(before, Fetched(server));
        Assert.Equal(1, server.RejectedPushes);
        // The rejected push still counts as received: sending it again is a repeat.
        Assert.Equal(ExchangeStatus.Duplicate, server.Push(new MessageStamp(1, 2), 2, Tensors(Gradients[2])).Status);
        Assert.Equal(ExchangeStatus.Applied, server.Push(new MessageStamp(1, 3), 2, Tensors(Gradients[2])).Status);
    }

    [Fact]
    public void AStalePushIsScaledByKOverS_WhenSoConfigured()
    {
        var server = new ParameterServerCore<double>(Tensors(Start), new Sgd(1), new StalenessBound(2, StaleGradientHandling.Scale));
        for (int s = 0; s < 4; s++)
            server.Push(new MessageStamp(0, s + 1), s, Tensors([[0, 0, 0], [0]]));
        var before = Fetched(server);
        // Computed on version 0, applied at version 4: s = 4 > k = 2, so the gradient counts 2/4.
        var reply = server.Push(new MessageStamp(1, 1), 0, Tensors(Gradients[1]));
        Assert.Equal(new ExchangeReply(ExchangeStatus.Scaled, 5, 4), reply);
        var after = Fetched(server);
        Assert.Equal([before[0][0] + 0.25, before[0][1] - 0.2, before[0][2] - 0.05], after[0], new Tolerance(1e-15));
        Assert.Equal(before[1][0] + 1.0, after[1][0], 1e-15);
        Assert.Equal(1, new StalenessBound(3, StaleGradientHandling.Scale).Factor(3));
        Assert.Equal(0.75, new StalenessBound(3, StaleGradientHandling.Scale).Factor(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StalenessBound(0, StaleGradientHandling.Scale));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StalenessBound(-1));
    }

    [Fact]
    public void BadPushesAreRefusedWhole()
    {
        var server = new ParameterServerCore<double>(Tensors(Start), new Adam(0.1));
        Assert.Throws<ArgumentException>(() => server.Push(new MessageStamp(0, 1), 0, Tensors([1, 2, 3])));
        Assert.Throws<ArgumentException>(() => server.Push(new MessageStamp(0, 1), 0, Tensors([1, 2], [3])));
        var e = Assert.Throws<ArgumentException>(() => server.Push(new MessageStamp(0, 1), 0, Tensors([1, 2, 3], [double.NaN])));
        Assert.Contains("non-finite", e.Message);
        Assert.Equal(Start, Fetched(server));
        Assert.Equal(0, server.Version);
        // The refused push did not use up its sequence number.
        Assert.Equal(ExchangeStatus.Applied, server.Push(new MessageStamp(0, 1), 0, Tensors(Gradients[0])).Status);
        for (int s = 3; s < 3 + ParameterServerCore<double>.MaxQueuedPerWorker; s++)
            Assert.Equal(ExchangeStatus.Queued, server.Push(new MessageStamp(0, s), 0, Tensors(Gradients[0])).Status);
        Assert.Throws<ArgumentException>(() => server.Push(new MessageStamp(0, 1000), 0, Tensors(Gradients[0])));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MessageStamp(0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MessageStamp(-1, 1));
    }

    [Fact]
    public void ARestoredServerContinuesExactly_AndAcceptsPushesItsSnapshotNeverSaw()
    {
        var original = new ParameterServerCore<double>(Tensors(Start), new Adam(0.1));
        original.Push(new MessageStamp(0, 1), 0, Tensors(Gradients[0]));
        original.Push(new MessageStamp(1, 1), 0, Tensors(Gradients[1]));
        var snapshot = original.Snapshot();
        original.Push(new MessageStamp(0, 2), 1, Tensors(Gradients[2]));

        var restored = ParameterServerCore<double>.Restore(snapshot, new Adam(0.1));
        Assert.Equal(2, restored.Version);
        Assert.Equal(ExchangeStatus.Duplicate, restored.Push(new MessageStamp(1, 1), 0, Tensors(Gradients[1])).Status);
        restored.Push(new MessageStamp(0, 2), 1, Tensors(Gradients[2]));
        Assert.Equal(Fetched(original), Fetched(restored));

        // Worker 1's pushes 2 and 3 reached only the lost server: its push 4 is applied, not held for them.
        var again = ParameterServerCore<double>.Restore(snapshot, new Adam(0.1));
        Assert.Equal(ExchangeStatus.Applied, again.Push(new MessageStamp(1, 4), 2, Tensors(Gradients[3])).Status);
        Assert.Equal(ExchangeStatus.Applied, again.Push(new MessageStamp(1, 5), 3, Tensors(Gradients[3])).Status);
        Assert.Equal(ExchangeStatus.Duplicate, again.Push(new MessageStamp(1, 4), 3, Tensors(Gradients[3])).Status);
        Assert.Throws<ArgumentException>(() => ParameterServerCore<double>.Restore(snapshot, new Momentum(0.1)));
    }

    [Fact]
    public void AWorkerRestartedUnderItsId_StartsANewStream_AndTheOldOneIsSuperseded()
    {
        // Worker 2 pushes 1 and 2, and push 4 is held waiting for 3; then it dies and a replacement
        // (a later incarnation) starts its sequence at 1 again.
        var server = new ParameterServerCore<double>(Tensors(Start), new Sgd(1));
        server.Push(new MessageStamp(2, 1, incarnation: 100), 0, Tensors(Gradients[0]));
        server.Push(new MessageStamp(2, 2, incarnation: 100), 1, Tensors(Gradients[1]));
        Assert.Equal(ExchangeStatus.Queued, server.Push(new MessageStamp(2, 4, incarnation: 100), 2, Tensors(Gradients[3])).Status);

        // Without a new incarnation the replacement's first push would be taken for a repeat.
        var unchanged = ParameterServerCore<double>.Restore(server.Snapshot(), new Sgd(1));
        Assert.Equal(ExchangeStatus.Duplicate, unchanged.Push(new MessageStamp(2, 1, incarnation: 100), 2, Tensors(Gradients[2])).Status);

        Assert.Equal(new ExchangeReply(ExchangeStatus.Applied, 3), server.Push(new MessageStamp(2, 1, incarnation: 200), 2, Tensors(Gradients[2])));
        // The old process's late push 3 is refused, and its held push 4 was dropped with its stream.
        Assert.Equal(new ExchangeReply(ExchangeStatus.Superseded, 3), server.Push(new MessageStamp(2, 3, incarnation: 100), 2, Tensors(Gradients[2])));
        Assert.Equal(ExchangeStatus.Applied, server.Push(new MessageStamp(2, 2, incarnation: 200), 3, Tensors(Gradients[1])).Status);
        Assert.Equal(4, server.Version);
        // SGD with rate 1: start − g0 − g1 − g2 − g1.
        double[] expected = [.. Start[0].Select((v, i) => v - Gradients[0][0][i] - Gradients[1][0][i] - Gradients[2][0][i] - Gradients[1][0][i])];
        Assert.Equal(expected, Fetched(server)[0]);

        // The incarnation survives a snapshot: the restored server still refuses the old process.
        var restored = ParameterServerCore<double>.Restore(server.Snapshot(), new Sgd(1));
        Assert.Equal(ExchangeStatus.Superseded, restored.Push(new MessageStamp(2, 5, incarnation: 100), 4, Tensors(Gradients[0])).Status);
        Assert.Equal(ExchangeStatus.Applied, restored.Push(new MessageStamp(2, 3, incarnation: 200), 4, Tensors(Gradients[0])).Status);
        Assert.Throws<ArgumentOutOfRangeException>(() => new MessageStamp(0, 1, incarnation: -1));
    }

    [Fact]
    public void TheCenterStartsAfreshForARestartedWorker_AndRefusesTheOldOne()
    {
        var center = new CenterVariableCore<double>(Tensors([0.0, 4.0]));
        center.Exchange(new MessageStamp(0, 5, incarnation: 1), 0.5, [new[] { 1.0, 0.0 }]);
        double[] replacement = [0.5, 2.0];
        Assert.Equal(ExchangeStatus.Applied, center.Exchange(new MessageStamp(0, 1, incarnation: 2), 0.5, [replacement]).Status);
        double[] old = [9.0, 9.0];
        Assert.Equal(ExchangeStatus.Superseded, center.Exchange(new MessageStamp(0, 6, incarnation: 1), 0.5, [old]).Status);
        Assert.Equal([9.0, 9.0], old);
        Assert.Equal(2, center.Version);

        var restored = new CenterVariableCore<double>(center.Center.Select(c => (ReadOnlyMemory<double>)c), center.Version, center.LastSequences, center.Incarnations);
        Assert.Equal(ExchangeStatus.Superseded, restored.Exchange(new MessageStamp(0, 7, incarnation: 1), 0.5, [old]).Status);
        Assert.Equal(ExchangeStatus.Outdated, restored.Exchange(new MessageStamp(0, 1, incarnation: 2), 0.5, [old]).Status);
    }

    [Fact]
    public async Task ADownpourWorkerWhoseIdWasRestartedElsewhere_Stops()
    {
        var data = SyntheticData.Blobs<double>(20, 3, 2, seed: 1);
        var start = new LinearScore<double>(2, 3, seed: 2);
        var server = new InProcessParameterServer<double>([.. start.Parameters.Select(p => (ReadOnlyMemory<double>)p.Value.Memory)], new Sgd(0.1));
        double[][] zero = [.. start.Parameters.Select(p => new double[p.Value.Memory.Length])];
        await server.PushAsync(new MessageStamp(0, 1, incarnation: 50), 0, [.. zero.Select(z => (ReadOnlyMemory<double>)z)]);

        var stale = new DownpourWorker<double>(new TrainingSetup<double>(start.Clone(), SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.1)), server, 0)
        { Incarnation = 10 };
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => stale.RunAsync(data));
        Assert.Contains("Worker 0 (start 10) was replaced", e.Message);
        var replacement = new DownpourWorker<double>(new TrainingSetup<double>(start.Clone(), SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.1)), server, 0,
            new DownpourOptions { Epochs = 1, BatchSize = 20 }) { Incarnation = 60 };
        Assert.Equal(3, (await replacement.RunAsync(data)).Steps);
    }

    [Fact]
    public void TheCenterMovesOncePerExchange_ARepeatGetsTheSameAnswer_AnOlderOneNothing()
    {
        var center = new CenterVariableCore<double>(Tensors([0.0, 4.0]));
        double[] local = [1.0, 0.0];
        Assert.Equal(new ExchangeReply(ExchangeStatus.Applied, 1), center.Exchange(new MessageStamp(0, 1), 0.5, [local]));
        // d = x − x̃ = (1, −4): x ← x − d/2, x̃ ← x̃ + d/2.
        Assert.Equal([0.5, 2.0], local);
        Assert.Equal([0.5, 2.0], center.Center[0]);

        double[] retry = [1.0, 0.0];
        Assert.Equal(ExchangeStatus.Duplicate, center.Exchange(new MessageStamp(0, 1), 0.5, [retry]).Status);
        Assert.Equal([0.5, 2.0], retry);
        Assert.Equal([0.5, 2.0], center.Center[0]);

        double[] other = [0.5, 0.0];
        center.Exchange(new MessageStamp(1, 7), 0.25, [other]);
        Assert.Equal([0.5, 1.5], center.Center[0]);
        double[] old = [9.0, 9.0];
        Assert.Equal(ExchangeStatus.Outdated, center.Exchange(new MessageStamp(1, 6), 0.25, [old]).Status);
        Assert.Equal([9.0, 9.0], old);
        Assert.Equal([0.5, 1.5], center.Center[0]);
        Assert.Equal(2, center.Version);
        Assert.Throws<ArgumentException>(() => center.Exchange(new MessageStamp(2, 1), 0.5, [new double[3]]));
        Assert.Throws<ArgumentException>(() => center.Exchange(new MessageStamp(2, 1), 0.5, [new[] { double.PositiveInfinity, 0 }]));
        Assert.Throws<ArgumentOutOfRangeException>(() => center.Exchange(new MessageStamp(2, 1), 1.5, [new double[2]]));
        Assert.Equal([0.5, 1.5], center.Center[0]);
    }

    [Fact]
    public async Task TheAllReduceSumsInWorkerOrder_WhateverOrderContributionsArrive()
    {
        // Chosen so that the order of the additions shows in the last bit.
        double[] g0 = [1e16, 0.1], g1 = [1.0, 0.2], g2 = [-1e16, 0.3];
        var core = new AllReduceCore<double>(3);
        var late = core.Contribute(new MessageStamp(2, 1), 5, Tensors(g2));
        var first = core.Contribute(new MessageStamp(0, 1), 5, Tensors(g0));
        Assert.Same(first, core.Contribute(new MessageStamp(0, 1), 5, Tensors(g0)));
        Assert.False(first.IsCompleted);
        var middle = core.Contribute(new MessageStamp(1, 1), 7, Tensors(g1));
        var result = await middle;
        Assert.Same(result, await late);
        Assert.Equal(17, result.Rows);
        Assert.Equal(((g0[0] + g1[0]) + g2[0], (g0[1] + g1[1]) + g2[1]), (result.Sum[0][0], result.Sum[0][1]));
        Assert.Equal(0.0, result.Sum[0][0]);
        // A repeat after the round completed gets the same answer.
        Assert.Same(result, await core.Contribute(new MessageStamp(1, 1), 7, Tensors(g1)));
        Assert.Throws<ArgumentException>(() => _ = core.Contribute(new MessageStamp(3, 2), 1, Tensors(g1)).Id);
        Assert.Throws<ArgumentException>(() => _ = core.Contribute(new MessageStamp(0, 2), 1, Tensors([1.0])).Id);
    }

    [Fact]
    public async Task TwoSynchronousWorkersEqualOneWorkerOnTheUnionOfTheirBatches()
    {
        var data = SyntheticData.Blobs<double>(24, 3, 4, seed: 5);
        var start = new LinearScore<double>(4, 3, seed: 6);
        var options = new SynchronousOptions { Epochs = 3, BatchSize = 5, Shuffle = false };
        UpdateChain update = new(new IGradientTransform[] { new ClipByGlobalNorm(0.5) }, new Adam(0.05));
        int half = data.Count / 2;

        var allReduce = new InProcessAllReduce<double>(2);
        var replicas = new[] { start.Clone(), start.Clone() };
        var reports = await Task.WhenAll(Enumerable.Range(0, 2).Select(w => Task.Run(() =>
            new SynchronousWorker<double>(new TrainingSetup<double>(replicas[w], SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-3), update),
                allReduce, w, options).RunAsync(data, Enumerable.Range(w * half, half).ToArray()))));
        Assert.Equal(Values(replicas[0]), Values(replicas[1]));

        // One worker whose rows are the two shards' batches interleaved, five and five, in batches of ten.
        int[] union = [.. Enumerable.Range(0, (half + 4) / 5).SelectMany(b => Enumerable.Range(b * 5, Math.Min(5, half - b * 5)).Concat(Enumerable.Range(half + b * 5, Math.Min(5, half - b * 5))))];
        var alone = start.Clone();
        await new SynchronousWorker<double>(new TrainingSetup<double>(alone, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-3), update),
            new InProcessAllReduce<double>(1), 0, options with { BatchSize = 10 }).RunAsync(data, union);
        Assert.Equal(Values(alone), Values(replicas[0]), new Tolerance(1e-12));
        Assert.NotEqual(Values(start), Values(alone));
        Assert.All(reports, r => Assert.Equal(3 * half, r.Samples));
        // 36 rows in batches of 5: eight steps an epoch (the last of one row).
        Assert.All(reports, r => Assert.Equal(3 * 8, r.Steps));
        Assert.All(reports, r => Assert.Equal(3, r.Epoch));
    }

    [Fact]
    public async Task SynchronousWorkersWithUnequalShardsKeepStepping_TheShortOneWithNoRows()
    {
        var data = SyntheticData.Blobs<double>(10, 3, 2, seed: 1);
        var start = new LinearScore<double>(2, 3, seed: 2);
        var allReduce = new InProcessAllReduce<double>(2);
        var replicas = new[] { start.Clone(), start.Clone() };
        int[][] shards = [[.. Enumerable.Range(0, 25)], [.. Enumerable.Range(25, 5)]];
        var reports = await Task.WhenAll(Enumerable.Range(0, 2).Select(w => Task.Run(() =>
            new SynchronousWorker<double>(new TrainingSetup<double>(replicas[w], SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.1)),
                allReduce, w, new SynchronousOptions { Epochs = 2, BatchSize = 5, Seed = 3 }).RunAsync(data, shards[w]))));
        Assert.Equal(Values(replicas[0]), Values(replicas[1]));
        Assert.Equal(2 * 5, reports[0].Steps);
        Assert.Equal(2 * 1, reports[1].Steps);
        // Six rounds per epoch: five with rows and the empty one that ends it, for both workers.
        Assert.Equal(12, reports[1].Messages);
    }

    private static double[] Values(IScoreFunction<double> score) => [.. score.Parameters.SelectMany(p => p.Value.Span.ToArray())];

    private sealed class Tolerance(double limit) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= limit;

        public int GetHashCode(double value) => 0;
    }
}
