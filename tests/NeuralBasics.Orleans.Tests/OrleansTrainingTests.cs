using NeuralBasics.Data;
using NeuralBasics.Losses;
using NeuralBasics.Models;
using NeuralBasics.Optimizers;
using NeuralBasics.Scoring;
using NeuralBasics.Training.Distributed;
using NeuralBasics.Training;

namespace NeuralBasics.Orleans.Tests;

/// <summary>
/// The grains on a real two-silo cluster (Orleans TestingHost): the same workers as in process,
/// reaching the shared state through Orleans, give the same results; repeats, reordering and
/// staleness behave as the cores say; a silo stopped mid-run loses nothing and the run completes.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class OrleansTrainingTests(ClusterFixture fixture)
{
    private static double[] Values(IScoreFunction<double> score) => [.. score.Parameters.SelectMany(p => p.Value.Span.ToArray())];

    private static ReadOnlyMemory<double>[] Initial(IScoreFunction<double> score) => [.. score.Parameters.Select(p => (ReadOnlyMemory<double>)p.Value.Memory)];

    private static PackedTensors Pack(params double[][] tensors) => PackedTensors.Pack<double>([.. tensors.Select(t => (ReadOnlyMemory<double>)t)]);

    private static int[] Shard(int count, int seed)
    {
        var order = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(order);
        return order;
    }

    [Fact(Timeout = 60_000)]
    public async Task DownpourWithOneWorkerThroughTheGrain_EqualsTheInProcessRun_BitForBit()
    {
        var data = SyntheticData.Blobs<double>(20, 3, 2, seed: 1);
        var start = new LinearScore<double>(2, 3, seed: 2);
        var options = new DownpourOptions { Workers = 1, FetchEvery = 1, PushEvery = 1, Epochs = 2, BatchSize = 8, Seed = 4 };
        var inProcess = new DownpourTrainer<double>(start, SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.05), options).Train(data);

        var server = new OrleansParameterServer<double>(fixture.Grains, "sgd-equivalence");
        await server.InitializeAsync(Initial(start));
        var replica = start.Clone();
        var report = await new DownpourWorker<double>(new TrainingSetup<double>(replica, SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.05)), server, 0, options)
            .RunAsync(data, Shard(data.Count, 4));
        var model = start.Clone();
        await server.FetchAsync(new MessageStamp(0, 1), [.. model.Parameters.Select(p => p.Value.Memory)]);

        Assert.Equal(Values(inProcess.Model.CopyScoreFunction()), Values(model));
        Assert.Equal(report.Steps, (await server.Grain.Status()).Version);
        // A 2-3 linear model has 9 parameters: 72 bytes of doubles per push.
        Assert.Equal(72 * report.Steps, report.BytesSent);
    }

    [Theory(Timeout = 60_000)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]   // equal ranges: the 4x5 weights are cut between shards
    public async Task DownpourWithOneWorkerThroughShardGrains_EqualsTheInProcessRun_BitForBit(int shards)
    {
        var data = SyntheticData.Blobs<double>(20, 3, 4, seed: 1);
        var start = new NeuralBasics.Layers.NetworkBuilder<double>(4, seed: 2).Dense(5, new NeuralBasics.Activations.Tanh()).Dense(3).Build();
        var options = new DownpourOptions { Workers = 1, FetchEvery = 2, PushEvery = 1, Epochs = 2, BatchSize = 8, Seed = 4 };
        var inProcess = new DownpourTrainer<double>(start, SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.05), options).Train(data);

        var server = await OrleansParameterServer<double>.CreateShardedAsync(fixture.Grains, $"sharded-{shards}", Initial(start), shards);
        var report = await new DownpourWorker<double>(new TrainingSetup<double>(start.Clone(), SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.05)), server, 0, options)
            .RunAsync(data, Shard(data.Count, 4));
        var model = start.Clone();
        await server.FetchAsync(new MessageStamp(0, 1), [.. model.Parameters.Select(p => p.Value.Memory)]);

        Assert.Equal(Values(inProcess.Model.CopyScoreFunction()), Values(model));
        Assert.Equal(shards, server.Shards.Count);
        foreach (var shard in server.Shards.Cast<OrleansParameterServer<double>>())
            Assert.Equal(report.Steps, (await shard.Grain.Status()).Version);   // every push applied once on every shard
        Assert.Equal(shards == 1 ? ["sharded-1"] : Enumerable.Range(0, shards).Select(s => $"sharded-{shards}/shard-{s}-of-{shards}"),
            server.Shards.Cast<OrleansParameterServer<double>>().Select(s => s.Run));
    }

    [Fact(Timeout = 60_000)]
    public async Task ShardsGoOnePerSilo_RoundTheListWhenThereAreMoreShards()
    {
        var silos = await OrleansPlacement.ActiveSilosAsync(fixture.Grains);
        Assert.Equal(2, silos.Count);
        Assert.Equal(silos, await OrleansPlacement.ActiveSilosAsync(fixture.Grains));   // the same order every time
        var start = new LinearScore<double>(4, 3, seed: 6);

        var server = await OrleansParameterServer<double>.CreateShardedAsync(fixture.Grains, "placement", Initial(start), 4);
        var placed = await Task.WhenAll(server.Shards.Cast<OrleansParameterServer<double>>().Select(async s => (await s.Grain.Status()).Silo));
        Assert.Equal([.. Enumerable.Range(0, 4).Select(s => silos[s % 2].ToString())], placed);

        // Mailboxes round the list given, and a second placement leaves active mailboxes where they are.
        var ring = new OrleansRingNetwork<double>(fixture.Grains, "placement-ring");
        Assert.Equal([silos[1].ToString(), silos[0].ToString(), silos[1].ToString()], await ring.PlaceMailboxesAsync(3, [silos[1], silos[0]]));
        Assert.Equal([silos[1].ToString(), silos[0].ToString(), silos[1].ToString()], await ring.PlaceMailboxesAsync(3, [silos[0]]));
    }

    [Theory(Timeout = 60_000)]
    [InlineData("ring")]
    [InlineData("scatter")]
    public async Task ThreeSynchronousWorkersThroughPeerMailboxes_EqualTheOneGrainAllReduce_BitForBit(string kind)
    {
        var data = SyntheticData.Blobs<double>(30, 3, 4, seed: 5);
        var start = new NeuralBasics.Layers.NetworkBuilder<double>(4, seed: 6).Dense(5, new NeuralBasics.Activations.Relu()).Dense(3).Build();
        var options = new SynchronousOptions { Epochs = 2, BatchSize = 6, Seed = 3 };
        // Uneven shards: the last rounds have workers with no rows.
        int[][] shards = [.. Enumerable.Range(0, 3).Select(w => Enumerable.Range(0, data.Count).Where(i => i % 3 == w).Skip(2 * w).ToArray())];

        async Task<IScoreFunction<double>[]> Run(Func<IGradientAllReduce<double>> allReduce)
        {
            var replicas = new[] { start.Clone(), start.Clone(), start.Clone() };
            await Task.WhenAll(Enumerable.Range(0, 3).Select(w => Task.Run(() =>
                new SynchronousWorker<double>(new TrainingSetup<double>(replicas[w], SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.05)),
                    allReduce(), w, options).RunAsync(data, shards[w]))));
            return replicas;
        }

        var network = new OrleansRingNetwork<double>(fixture.Grains, $"{kind}-three");
        var ring = await Run(() => kind == "ring" ? new RingAllReduce<double>(network, 3) : new ScatterAllReduce<double>(network, 3));
        var oneGrain = new InProcessAllReduce<double>(3);
        var central = await Run(() => oneGrain);
        Assert.All(ring, replica => Assert.Equal(Values(central[0]), Values(replica)));
    }

    [Fact(Timeout = 60_000)]
    public async Task TwoSynchronousWorkersThroughTheGrain_StayIdentical_AndEqualOneWorkerUpToRounding()
    {
        var data = SyntheticData.Blobs<double>(24, 3, 4, seed: 5);
        var start = new LinearScore<double>(4, 3, seed: 6);
        var options = new SynchronousOptions { Epochs = 2, BatchSize = 6, Shuffle = false };
        int half = data.Count / 2;
        var replicas = new[] { start.Clone(), start.Clone() };
        var reports = await Task.WhenAll(Enumerable.Range(0, 2).Select(async w =>
        {
            var allReduce = await OrleansAllReduce<double>.JoinAsync(fixture.Grains, "sync-two", 2);
            return await new SynchronousWorker<double>(new TrainingSetup<double>(replicas[w], SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.05)),
                allReduce, w, options).RunAsync(data, Enumerable.Range(w * half, half).ToArray());
        }));
        Assert.Equal(Values(replicas[0]), Values(replicas[1]));

        int[] union = [.. Enumerable.Range(0, half / 6).SelectMany(b => Enumerable.Range(b * 6, 6).Concat(Enumerable.Range(half + b * 6, 6)))];
        var alone = start.Clone();
        await new SynchronousWorker<double>(new TrainingSetup<double>(alone, SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.05)),
            new InProcessAllReduce<double>(1), 0, options with { BatchSize = 12 }).RunAsync(data, union);
        Assert.All(Values(alone).Zip(Values(replicas[0])), pair => Assert.Equal(pair.First, pair.Second, 1e-12));
        Assert.All(reports, r => Assert.Equal(2 * half, r.Samples));
    }

    [Fact(Timeout = 60_000)]
    public async Task EasgdThroughTheGrain_MovesTheCenterAsInProcess()
    {
        var data = SyntheticData.Blobs<double>(20, 3, 2, seed: 1);
        var start = new LinearScore<double>(2, 3, seed: 2);
        var options = new ElasticAveragingOptions { Workers = 1, Alpha = 0.5, Tau = 1, Epochs = 2, BatchSize = 8, Seed = 4 };
        var inProcess = new ElasticAveragingTrainer<double>(start, SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.05), options).Train(data);

        var center = new OrleansCenterVariable<double>(fixture.Grains, "easgd-equivalence");
        await center.InitializeAsync(Initial(start));
        var replica = start.Clone();
        await new ElasticAveragingWorker<double>(new TrainingSetup<double>(replica, SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.05)), center, 0, options)
            .RunAsync(data, Shard(data.Count, 4));
        var model = start.Clone();
        await center.ReadAsync([.. model.Parameters.Select(p => p.Value.Memory)]);

        Assert.Equal(Values(inProcess.Model.CopyScoreFunction()), Values(model));
        Assert.Equal(Values(inProcess.Workers[0]), Values(replica));
        Assert.NotEqual(Values(start), Values(model));
    }

    [Fact(Timeout = 60_000)]
    public async Task RepeatedAndReorderedPushesThroughTheGrain_ChangeNothing()
    {
        double[][] start = [[1.0, -2.0, 0.5], [0.25]];
        double[][][] gradients = [[[0.3, -0.1, 0.2], [1.0]], [[-0.5, 0.4, 0.1], [-2.0]], [[0.2, 0.2, -0.7], [0.5]]];
        var expected = new ParameterServerCore<double>(start.Select(t => (ReadOnlyMemory<double>)t), new Adam(0.1));
        for (int s = 0; s < 3; s++)
            expected.Push(new MessageStamp(0, s + 1), 0, [.. gradients[s].Select(g => (ReadOnlyMemory<double>)g)]);

        var grain = fixture.Grains.GetGrain<IParameterServerGrain<double>>("adam-order");
        await grain.Initialize(Pack(start));
        Assert.Equal(ExchangeStatus.Queued, (await grain.Push(new MessageStamp(0, 3), 0, Pack(gradients[2]))).Status);
        Assert.Equal(ExchangeStatus.Queued, (await grain.Push(new MessageStamp(0, 2), 0, Pack(gradients[1]))).Status);
        Assert.Equal(ExchangeStatus.Duplicate, (await grain.Push(new MessageStamp(0, 2), 0, Pack(gradients[1]))).Status);
        Assert.Equal(new ExchangeReply(ExchangeStatus.Applied, 3), await grain.Push(new MessageStamp(0, 1), 0, Pack(gradients[0])));
        Assert.Equal(ExchangeStatus.Duplicate, (await grain.Push(new MessageStamp(0, 1), 0, Pack(gradients[0]))).Status);

        var fetched = await grain.Fetch(new MessageStamp(0, 1));
        double[][] values = [[0, 0, 0], [0]];
        expected.Fetch([.. values.Select(v => (Memory<double>)v)]);
        Assert.Equal(3, fetched.Version);
        Assert.Equal(values, fetched.Tensors.Unpack<double>());
    }

    [Fact(Timeout = 60_000)]
    public async Task ASecondModelUnderTheSameRunName_IsRefusedAtInitialize_AndTheFirstKeepsItsParameters()
    {
        var server = new OrleansParameterServer<double>(fixture.Grains, "mismatch");
        Assert.Equal(0, await server.InitializeAsync([new double[] { 1, 2, 3, 4 }, new double[] { 5 }]));
        // The same shapes again (another worker of the same run): accepted, nothing changes.
        Assert.Equal(0, await server.InitializeAsync([new double[] { 9, 9, 9, 9 }, new double[] { 9 }]));

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => server.InitializeAsync([new double[] { 1, 2 }, new double[] { 3, 4, 5 }]));
        Assert.Contains("already holds 2 tensors of 4, 1 values, but a worker started it with 2 tensors of 2, 3 values", e.Message);
        var center = new OrleansCenterVariable<double>(fixture.Grains, "mismatch");
        await center.InitializeAsync([new double[] { 1, 2, 3 }]);
        await Assert.ThrowsAsync<InvalidOperationException>(() => center.InitializeAsync([new double[] { 1, 2 }]));

        double[][] values = [new double[4], new double[1]];
        await server.FetchAsync(new MessageStamp(0, 1), [.. values.Select(v => (Memory<double>)v)]);
        Assert.Equal([[1.0, 2, 3, 4], [5.0]], values);
    }

    [Fact(Timeout = 60_000)]
    public async Task AWorkerRestartedUnderItsId_IsANewStreamThroughTheGrain_AndTheOldOneIsSuperseded()
    {
        var grain = fixture.Grains.GetGrain<IParameterServerGrain<double>>("restart");
        await grain.Initialize(Pack([0.0, 0.0]));
        Assert.Equal(ExchangeStatus.Applied, (await grain.Push(new MessageStamp(1, 1, 7), 0, Pack([1.0, 0.0]))).Status);
        Assert.Equal(ExchangeStatus.Applied, (await grain.Push(new MessageStamp(1, 2, 7), 1, Pack([1.0, 0.0]))).Status);
        // The replacement's sequence starts at 1 again; its later incarnation crosses the wire.
        Assert.Equal(new ExchangeReply(ExchangeStatus.Applied, 3), await grain.Push(new MessageStamp(1, 1, 8), 2, Pack([0.0, 1.0])));
        Assert.Equal(new ExchangeReply(ExchangeStatus.Superseded, 3), await grain.Push(new MessageStamp(1, 3, 7), 2, Pack([5.0, 5.0])));
        Assert.Equal([[-0.2, -0.1]], (await grain.Fetch(new MessageStamp(1, 1, 8))).Tensors.Unpack<double>());
    }

    [Fact(Timeout = 60_000)]
    public async Task AStalePushThroughTheGrain_IsRejectedOrScaledAsConfigured()
    {
        double[][] start = [[0.0, 0.0]];
        var bounded = fixture.Grains.GetGrain<IParameterServerGrain<double>>("bounded");
        await bounded.Initialize(Pack(start));
        Assert.Equal(ExchangeStatus.Applied, (await bounded.Push(new MessageStamp(0, 1), 0, Pack([1.0, 1.0]))).Status);
        Assert.Equal(new ExchangeReply(ExchangeStatus.RejectedStale, 1, 1), await bounded.Push(new MessageStamp(1, 1), 0, Pack([1.0, 1.0])));
        Assert.Equal(new[] { -1.0, -1.0 }, (await bounded.Fetch(new MessageStamp(0, 1))).Tensors.Unpack<double>()[0]);
        Assert.Equal(1, (await bounded.Status()).RejectedPushes);

        var scaled = fixture.Grains.GetGrain<IParameterServerGrain<double>>("scaled");
        await scaled.Initialize(Pack(start));
        await scaled.Push(new MessageStamp(0, 1), 0, Pack([1.0, 1.0]));
        await scaled.Push(new MessageStamp(0, 2), 1, Pack([1.0, 1.0]));
        // Computed on version 0 and applied at version 2: s = 2 > k = 1, so it counts 1/2.
        Assert.Equal(new ExchangeReply(ExchangeStatus.Scaled, 3, 2), await scaled.Push(new MessageStamp(1, 1), 0, Pack([4.0, 2.0])));
        Assert.Equal(new[] { -4.0, -3.0 }, (await scaled.Fetch(new MessageStamp(0, 1))).Tensors.Unpack<double>()[0]);
    }

    [Fact(Timeout = 120_000)]
    public async Task ASiloStoppedMidRun_TheServerComesBackOnTheOtherSilo_AndTheRunReachesTheFloor()
    {
        await using var cluster = await ClusterFixture.StartAsync();
        var data = SyntheticData.Blobs<double>(200, 3, 2, seed: 11);
        var start = new LinearScore<double>(2, 3, seed: 12);
        var server = new OrleansParameterServer<double>(cluster.Client, "downpour-floor");
        await server.InitializeAsync(Initial(start));
        var options = new DownpourOptions { Workers = 2, FetchEvery = 1, PushEvery = 1, Epochs = 8, BatchSize = 16, Seed = 3 };
        int[] order = Shard(data.Count, 3);
        var progressed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var workers = Enumerable.Range(0, 2).Select(w => Task.Run(() =>
            new DownpourWorker<double>(new TrainingSetup<double>(start.Clone(), SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.05)), server, w, options)
                .RunAsync(data, order[(w * data.Count / 2)..((w + 1) * data.Count / 2)],
                    new Progress<WorkerReport>(r => { if (r.Epoch >= 2) progressed.TrySetResult(); })))).ToArray();

        await progressed.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var before = await server.Grain.Status();
        var host = cluster.Silos.Single(s => s.SiloAddress.ToString() == before.Silo);
        await cluster.StopSiloAsync(host);
        var reports = await Task.WhenAll(workers);

        var after = await server.Grain.Status();
        Assert.NotEqual(before.Silo, after.Silo);
        // Every push was applied once: the stop lost none (the grain wrote its state as it deactivated).
        Assert.Equal(reports.Sum(r => r.Steps), after.Version);
        var model = start.Clone();
        await server.FetchAsync(new MessageStamp(0, 1), [.. model.Parameters.Select(p => p.Value.Memory)]);
        double accuracy = new Classifier<double>(model, SoftmaxCrossEntropyLoss.Instance).Accuracy(data);
        Assert.True(accuracy >= 0.95, $"accuracy {accuracy:P1}");
    }
}
