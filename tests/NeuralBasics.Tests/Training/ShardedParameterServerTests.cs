using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Tests.Training;

public class ShardedParameterServerTests
{
    private static double[] Values(IScoreFunction<double> score) => [.. score.Parameters.SelectMany(p => p.Value.Span.ToArray())];

    private static IScoreFunction<double> Net() => new NetworkBuilder<double>(4, seed: 3).Dense(6, new Relu()).Dense(5, new Tanh()).Dense(3).Build();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void OneWorker_AnyShardCount_IsBitForBitTheWholeServer(int shards)
    {
        // Update rules act on each element alone, so with one worker (every push applied on every
        // shard before the next fetch) the split changes nothing, Adam's state included; 7 equal
        // ranges cut tensors in the middle.
        var data = SyntheticData.Spiral<double>(30, 3, seed: 2);
        var data4 = new DataSet<double>(Widen(data.Features), data.Labels, 3);
        var options = new DownpourOptions { Workers = 1, FetchEvery = 2, PushEvery = 1, Epochs = 3, BatchSize = 16, Seed = 5 };
        var whole = new DownpourTrainer<double>(Net(), SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.01), options).Train(data4).Model;
        var sharded = new DownpourTrainer<double>(Net(), SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.01), options with { Shards = shards }).Train(data4).Model;
        Assert.Equal(Values(whole.CopyScoreFunction()), Values(sharded.CopyScoreFunction()));
    }

    private static Matrix<double> Widen(Matrix<double> x)
    {
        var wide = new Matrix<double>(x.Rows, 4);
        for (int i = 0; i < x.Rows; i++)
        {
            wide[i, 0] = x[i, 0];
            wide[i, 1] = x[i, 1];
            wide[i, 2] = x[i, 0] * x[i, 1];
            wide[i, 3] = x[i, 0] - x[i, 1];
        }
        return wide;
    }

    [Fact]
    public void ByTensor_PutsTheLargestFirst_OnTheLightestShard()
    {
        // 784x256 weights, 256 biases, 256x10 weights, 10 biases over 2 shards: the big matrix alone on one.
        Assert.Equal([[new TensorSlice(0, 0, 200_704)], [new(1, 0, 256), new(2, 0, 2_560), new(3, 0, 10)]],
            ShardedParameterServer<float>.ByTensor([200_704, 256, 2_560, 10], 2));
        Assert.Throws<ArgumentException>(() => ShardedParameterServer<float>.ByTensor([1, 2], 3));
    }

    [Fact]
    public void ByRange_CutsTheValuesIntoEqualRanges_AcrossTensorBoundaries()
    {
        // 6 + 4 + 5 = 15 values over 4 shards: 4, 4, 4, 3.
        Assert.Equal([[new TensorSlice(0, 0, 4)], [new(0, 4, 2), new(1, 0, 2)], [new(1, 2, 2), new(2, 0, 2)], [new(2, 2, 3)]],
            ShardedParameterServer<float>.ByRange([6, 4, 5], 4));
        // The MLP 784-256-10 in two: 101,765 values each, the big matrix split.
        var halves = ShardedParameterServer<float>.ByRange([200_704, 256, 2_560, 10], 2);
        Assert.Equal([101_765, 101_765], halves.Select(h => h.Sum(x => x.Length)));
        Assert.Throws<ArgumentException>(() => ShardedParameterServer<float>.ByRange([1, 1], 3));
    }

    [Fact]
    public async Task FetchAndPush_GoToEveryShard_EachWithItsOwnVersion()
    {
        var a = new InProcessParameterServer<double>([new double[] { 1, 2 }], new Sgd(1));
        var b = new InProcessParameterServer<double>([new double[] { 10 }, new double[] { 20, 30 }], new Sgd(1));
        var server = new ShardedParameterServer<double>([a, b], [[new TensorSlice(1, 0, 2)], [new(0, 0, 1), new(2, 0, 2)]], [1, 2, 2]);
        // Shard a has seen a push from another worker: its version runs ahead.
        await a.PushAsync(new MessageStamp(9, 1), 0, [new double[] { 0, 0 }]);
        var destination = new[] { new double[1], new double[2], new double[2] };
        long version = await server.FetchAsync(new MessageStamp(1, 1), [.. destination.Select(d => (Memory<double>)d)]);
        Assert.Equal(0, version);   // the lowest of the shards' versions
        Assert.Equal([10.0], destination[0]);
        Assert.Equal([1.0, 2.0], destination[1]);
        Assert.Equal([20.0, 30.0], destination[2]);
        var reply = await server.PushAsync(new MessageStamp(1, 1), version, [new double[] { 1 }, new double[] { 1, 1 }, new double[] { 2, 2 }]);
        Assert.Equal(new ExchangeReply(ExchangeStatus.Applied, 1, 0), reply);  // shard a: version 2, staleness 0 (its own base was 1)
        // A retry of the same push is a duplicate on every shard, applied nowhere again.
        var retry = await server.PushAsync(new MessageStamp(1, 1), version, [new double[] { 1 }, new double[] { 1, 1 }, new double[] { 2, 2 }]);
        Assert.Equal(ExchangeStatus.Duplicate, retry.Status);
        await server.FetchAsync(new MessageStamp(1, 1), [.. destination.Select(d => (Memory<double>)d)]);
        Assert.Equal([9.0], destination[0]);
        Assert.Equal([0.0, 1.0], destination[1]);
        Assert.Equal([18.0, 28.0], destination[2]);
        // Two fetches and two pushes of the 5 values, 8 bytes each; nothing for worker 9, which never went through it.
        Assert.Equal((80L, 80L), server.BytesOf(1));
        Assert.Equal((0L, 0L), server.BytesOf(9));
    }

    /// <summary>A shard that counts its own bytes (as 16-bit Orleans shards do) is asked; the others count at the type's size.</summary>
    [Fact]
    public async Task Bytes_ComeFromShardsThatCountThem_AndAtTheTypesSizeFromTheOthers()
    {
        var a = new InProcessParameterServer<double>([new double[] { 1, 2 }], new Sgd(1));
        var b = new HalfCounting(new InProcessParameterServer<double>([new double[] { 10, 20, 30 }], new Sgd(1)));
        var server = new ShardedParameterServer<double>([a, b], [[new TensorSlice(0, 0, 2)], [new(1, 0, 3)]], [2, 3]);
        var destination = new[] { new double[2], new double[3] };
        await server.FetchAsync(new MessageStamp(0, 1), [.. destination.Select(d => (Memory<double>)d)]);
        await server.PushAsync(new MessageStamp(0, 1), 0, [new double[2], new double[3]]);
        await server.PushAsync(new MessageStamp(0, 2), 0, [new double[2], new double[3]]);
        // Shard a: 2 values x 8 bytes per message; shard b: 3 values x 2 bytes, as it counted them.
        Assert.Equal((2 * (16L + 6), 16L + 6), server.BytesOf(0));
    }

    private sealed class HalfCounting(InProcessParameterServer<double> inner) : IParameterServer<double>, IExchangeMeter
    {
        private readonly ExchangeByteCounter _bytes = new();

        public (long Sent, long Received) BytesOf(int worker) => _bytes.BytesOf(worker);

        public async ValueTask<long> FetchAsync(MessageStamp stamp, IReadOnlyList<Memory<double>> destination, CancellationToken cancellationToken = default)
        {
            _bytes.Add(stamp.Worker, 0, 2 * destination.Sum(d => (long)d.Length));
            return await inner.FetchAsync(stamp, destination, cancellationToken);
        }

        public ValueTask<ExchangeReply> PushAsync(MessageStamp stamp, long baseVersion, IReadOnlyList<ReadOnlyMemory<double>> gradients, CancellationToken cancellationToken = default)
        {
            _bytes.Add(stamp.Worker, 2 * gradients.Sum(g => (long)g.Length), 0);
            return inner.PushAsync(stamp, baseVersion, gradients, cancellationToken);
        }
    }

    [Theory]
    [InlineData(ExchangeStatus.Applied, ExchangeStatus.Applied, ExchangeStatus.Applied)]
    [InlineData(ExchangeStatus.Applied, ExchangeStatus.Duplicate, ExchangeStatus.Applied)]
    [InlineData(ExchangeStatus.Duplicate, ExchangeStatus.Duplicate, ExchangeStatus.Duplicate)]
    [InlineData(ExchangeStatus.Applied, ExchangeStatus.RejectedStale, ExchangeStatus.RejectedStale)]
    [InlineData(ExchangeStatus.Scaled, ExchangeStatus.Applied, ExchangeStatus.Scaled)]
    [InlineData(ExchangeStatus.Queued, ExchangeStatus.Superseded, ExchangeStatus.Superseded)]
    public void Replies_CombineToTheMostConsequential(ExchangeStatus first, ExchangeStatus second, ExchangeStatus combined)
    {
        var reply = ShardedParameterServer<float>.Combine([new ExchangeReply(first, 7, 1), new ExchangeReply(second, 5, 3)]);
        Assert.Equal(new ExchangeReply(combined, 5, 3), reply);
    }

    [Fact]
    public async Task BadLayouts_AreRefused()
    {
        var one = new InProcessParameterServer<double>([new double[] { 1, 2 }], new Sgd(1));
        Assert.Contains("outside", Assert.Throws<ArgumentException>(() => new ShardedParameterServer<double>([one], [[new TensorSlice(1, 0, 2)]], [2])).Message);
        Assert.Contains("Shard 1 holds nothing", Assert.Throws<ArgumentException>(() => new ShardedParameterServer<double>([one, one], [[new TensorSlice(0, 0, 2)], []], [2])).Message);
        Assert.Contains("cover 1 of its 2", Assert.Throws<ArgumentException>(() => new ShardedParameterServer<double>([one], [[new TensorSlice(0, 0, 1)]], [2])).Message);
        Assert.Contains("gap or overlap", Assert.Throws<ArgumentException>(() =>
            new ShardedParameterServer<double>([one, one], [[new TensorSlice(0, 0, 2)], [new(0, 1, 1)]], [2])).Message);
        var server = new ShardedParameterServer<double>([one], [[new TensorSlice(0, 0, 2)]], [2]);
        Assert.Contains("the server's tensors are [2]", (await Assert.ThrowsAsync<ArgumentException>(async () =>
            await server.FetchAsync(new MessageStamp(0, 1), [new double[3]]))).Message);
    }
}
