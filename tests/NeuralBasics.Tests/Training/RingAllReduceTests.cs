using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
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

    private static IGradientAllReduce<double> Peers(string kind, int workers) => kind == "ring"
        ? new RingAllReduce<double>(new InProcessRingNetwork<double>(), workers)
        : new ScatterAllReduce<double>(new InProcessRingNetwork<double>(), workers);

    [Theory]
    [InlineData("ring", 1)]
    [InlineData("ring", 2)]
    [InlineData("ring", 3)]
    [InlineData("ring", 5)]
    [InlineData("scatter", 1)]
    [InlineData("scatter", 2)]
    [InlineData("scatter", 3)]
    [InlineData("scatter", 5)]
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
