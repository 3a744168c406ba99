using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Scoring;
using NeuralBasics.Training;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Tests.Training;

public class RingAllReduceTests
{
    private static double[] Values(IScoreFunction<double> score) => [.. score.Parameters.SelectMany(p => p.Value.Span.ToArray())];

    /// <summary>Synchronous training of <paramref name="workers"/> workers on halves/thirds of the data through <paramref name="allReduce"/>.</summary>
    private static async Task<IScoreFunction<double>[]> Train(int workers, IGradientAllReduce<double> allReduce, int rows)
    {
        var data = SyntheticData.Spiral<double>(rows, 3, seed: 7);
        var start = new NetworkBuilder<double>(2, seed: 1).Dense(7, new Relu()).Dense(3).Build();
        var replicas = Enumerable.Range(0, workers).Select(_ => start.Clone()).ToArray();
        // Uneven shards, so in the last rounds some workers have no rows left.
        var shards = Enumerable.Range(0, workers).Select(w => Enumerable.Range(0, data.Count).Where(i => i % workers == w).Skip(w * 3).ToArray()).ToArray();
        var options = new SynchronousOptions { Epochs = 3, BatchSize = 8, Seed = 2 };
        await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(() =>
            new SynchronousWorker<double>(new TrainingSetup<double>(replicas[w], SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.02)), allReduce, w, options)
                .RunAsync(data, shards[w]))));
        return replicas;
    }

    /// <summary>The ring or scatter-gather; "-refereed" with a round deadline too long to pass (the same bits).</summary>
    private static IGradientAllReduce<double> Peers(string kind, int workers)
    {
        var referee = kind.EndsWith("-refereed", StringComparison.Ordinal) ? new InProcessRoundReferee(workers, TimeSpan.FromMinutes(2)) : null;
        var deadline = referee is null ? TimeSpan.Zero : TimeSpan.FromMinutes(1);
        return kind.StartsWith("ring", StringComparison.Ordinal)
            ? new RingAllReduce<double>(new InProcessRingNetwork<double>(), workers, referee, deadline)
            : new ScatterAllReduce<double>(new InProcessRingNetwork<double>(), workers, referee, deadline);
    }

    [Theory]
    [InlineData("ring", 1)]
    [InlineData("ring", 2)]
    [InlineData("ring", 3)]
    [InlineData("ring", 5)]
    [InlineData("scatter", 1)]
    [InlineData("scatter", 2)]
    [InlineData("scatter", 3)]
    [InlineData("scatter", 5)]
    [InlineData("ring-refereed", 3)]
    [InlineData("scatter-refereed", 3)]
    public async Task EveryWorker_GetsBitForBitTheOneGrainSum(string kind, int workers)
    {
        var ring = await Train(workers, Peers(kind, workers), rows: 40);
        var central = await Train(workers, new InProcessAllReduce<double>(workers), rows: 40);
        foreach (var replica in ring)
            Assert.Equal(Values(central[0]), Values(replica));
    }

    [Theory]
    [InlineData("ring")]
    [InlineData("scatter")]
    public async Task MoreWorkersThanValues_StillSum(string kind)
    {
        // 3 values over 5 workers: two chunks are empty.
        var ring = Peers(kind, 5);
        var buffers = Enumerable.Range(0, 5).Select(w => new double[] { w, 10 * w, 100 * w }).ToArray();
        int[] totals = await Task.WhenAll(Enumerable.Range(0, 5).Select(w =>
            ring.AllReduceAsync(new MessageStamp(w, 1), w == 2 ? 0 : 1, [buffers[w]]).AsTask()));
        Assert.All(totals, t => Assert.Equal(4, t));
        // Worker 2 had no rows: its values count as zeros. 0+1+3+4 = 8.
        Assert.All(buffers, b => Assert.Equal([8.0, 80.0, 800.0], b));
    }

    /// <summary>
    /// Each worker's bytes as the algorithms move them, 3 workers and 17 doubles (chunks of 6, 6, 5):
    /// the ring's worker 0 sends every chunk on and the finished ones round again, worker 1 (the one
    /// before last) only sends on, worker 2 only sends the finished ones; in scatter-gather a worker sends
    /// the others' chunks of its gradients (none when it has no rows) and its finished chunk to each.
    /// The worker reports say the same.
    /// </summary>
    [Theory]
    [InlineData("ring", new long[] { 34, 17, 17 }, new long[] { 17, 34, 17 })]
    [InlineData("scatter", new long[] { 11 + 12, 0 + 12, 12 + 10 }, new long[] { 6 + 11, 12 + 11, 5 + 12 })]
    public async Task EachWorkersBytes_AreThoseItsMessagesCarried(string kind, long[] sentValues, long[] receivedValues)
    {
        var peers = Peers(kind, 3);
        await Task.WhenAll(Enumerable.Range(0, 3).Select(w =>
            peers.AllReduceAsync(new MessageStamp(w, 1), w == 1 ? 0 : 2, [new double[10], new double[5], new double[2]]).AsTask()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExchangeByteCounter().Add(0, -1, 0));
        var meter = Assert.IsAssignableFrom<IExchangeMeter>(peers);
        for (int w = 0; w < 3; w++)
            Assert.Equal((8 * sentValues[w], 8 * receivedValues[w]), meter.BytesOf(w));

        var trained = Peers(kind, 3);
        var reports = await TrainReports(3, trained, rows: 40);
        foreach (var r in reports)
            Assert.Equal(((IExchangeMeter)trained).BytesOf(r.Worker), (r.BytesSent, r.BytesReceived));
        Assert.Equal(reports.Sum(r => r.BytesSent), reports.Sum(r => r.BytesReceived));
        if (kind == "ring")
        {
            // The 2-3 linear model's 9 doubles (72 bytes) per round: twice from worker 0, once from the others.
            Assert.Equal([144, 72, 72], reports.Select(r => r.BytesSent / r.Messages));
            Assert.Equal([72, 144, 72], reports.Select(r => r.BytesReceived / r.Messages));
        }
    }

    private static async Task<WorkerReport[]> TrainReports(int workers, IGradientAllReduce<double> allReduce, int rows)
    {
        var data = SyntheticData.Spiral<double>(rows, 3, seed: 7);
        var start = new LinearScore<double>(2, 3, seed: 1);
        var options = new SynchronousOptions { Epochs = 1, BatchSize = 8, Seed = 2 };
        var reports = await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(() =>
            new SynchronousWorker<double>(new TrainingSetup<double>(start.Clone(), SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.1)), allReduce, w, options)
                .RunAsync(data, Enumerable.Range(0, data.Count).Where(i => i % workers == w).ToArray()))));
        return reports;
    }

    [Theory]
    [InlineData("ring")]
    [InlineData("scatter")]
    public async Task AWorkerOutsideTheRing_OrANonFiniteGradient_IsRefused(string kind)
    {
        var ring = Peers(kind, 2);
        await Assert.ThrowsAsync<ArgumentException>(async () => await ring.AllReduceAsync(new MessageStamp(2, 1), 1, [new double[1]]));
        await Assert.ThrowsAsync<ArgumentException>(async () => await ring.AllReduceAsync(new MessageStamp(0, 1), 1, [new[] { double.NaN }]));
    }
}
