using BenchmarkDotNet.Attributes;
using NeuralBasics.Activations;
using NeuralBasics.Layers;
using NeuralBasics.Optimizers;
using NeuralBasics.Orleans;
using NeuralBasics.Training.Distributed;
using Orleans.TestingHost;

namespace NeuralBasics.Benchmarks.Cluster;

/// <summary>
/// The exchanges that spread the traffic, on the same two-silo cluster over TCP on 127.0.0.1 as
/// <see cref="ExchangeBenchmarks"/>: a Downpour fetch and push of the MLP 784-256-10 (814 KB) through
/// a parameter server of 1, 2 or 4 shards (one or two per silo), and one synchronous round of two
/// workers (both in this client, 814 KB of gradients each) through the one all-reduce grain, the
/// ring of mailboxes and the scatter-gather, each worker's mailbox on its own silo.
/// </summary>
public class PeerExchangeBenchmarks
{
    private TestCluster _cluster = null!;
    private ShardedParameterServer<float> _server = null!;
    private IGradientAllReduce<float>[] _grain = null!, _ring = null!, _scatter = null!;
    private Memory<float>[] _buffers = null!;
    private Memory<float>[][] _workerGradients = null!;
    private ReadOnlyMemory<float>[] _gradients = null!;
    private long _fetches, _pushes, _grainRounds, _ringRounds, _scatterRounds;

    /// <summary>The parameter server's shards.</summary>
    [Params(1, 2, 4)]
    public int Shards { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _cluster = LoopbackCluster.Start<Silos>();
        var grains = _cluster.Client;

        var net = new NetworkBuilder<float>(784, seed: 1).Dense(256, new Relu()).Dense(10).Build();
        _buffers = [.. net.Parameters.Select(p => p.Value.Memory.ToArray().AsMemory())];
        _gradients = [.. _buffers.Select(b => (ReadOnlyMemory<float>)Enumerable.Repeat(1e-3f, b.Length).ToArray())];
        // Zeros: a round writes the sum back, and sums of zeros stay finite however many rounds run.
        _workerGradients = [.. Enumerable.Range(0, 2).Select(_ => _gradients.Select(g => new float[g.Length].AsMemory()).ToArray())];
        _server = OrleansParameterServer<float>.CreateShardedAsync(grains, "exchange", [.. _buffers.Select(b => (ReadOnlyMemory<float>)b.ToArray())], Shards)
            .GetAwaiter().GetResult();
        // Two workers' all-reduces, as two processes would hold them.
        _grain = [.. Enumerable.Range(0, 2).Select(_ => OrleansAllReduce<float>.JoinAsync(grains, $"grain-{Shards}", workerCount: 2).GetAwaiter().GetResult())];
        var silos = OrleansPlacement.ActiveSilosAsync(grains).GetAwaiter().GetResult();
        var ring = new OrleansRingNetwork<float>(grains, $"ring-{Shards}");
        var scatter = new OrleansRingNetwork<float>(grains, $"scatter-{Shards}");
        ring.PlaceMailboxesAsync(2, silos).GetAwaiter().GetResult();
        scatter.PlaceMailboxesAsync(2, silos).GetAwaiter().GetResult();
        _ring = [new RingAllReduce<float>(ring, 2), new RingAllReduce<float>(ring, 2)];
        _scatter = [new ScatterAllReduce<float>(scatter, 2), new ScatterAllReduce<float>(scatter, 2)];
    }

    [GlobalCleanup]
    public void Cleanup() => LoopbackCluster.Stop(_cluster);

    /// <summary>Downpour: the parameters from every shard at once.</summary>
    [Benchmark]
    public ValueTask<long> ShardedFetch() => _server.FetchAsync(new MessageStamp(0, ++_fetches), _buffers);

    /// <summary>Downpour: a gradient to every shard at once.</summary>
    [Benchmark]
    public ValueTask<ExchangeReply> ShardedPush() => _server.PushAsync(new MessageStamp(0, ++_pushes), 0, _gradients);

    /// <summary>Synchronous, two workers: through the one all-reduce grain.</summary>
    [Benchmark]
    public Task<int[]> GrainRound() => Round(_grain, ++_grainRounds);

    /// <summary>Synchronous, two workers: through the ring of mailboxes.</summary>
    [Benchmark]
    public Task<int[]> RingRound() => Round(_ring, ++_ringRounds);

    /// <summary>Synchronous, two workers: scatter-gather through the mailboxes.</summary>
    [Benchmark]
    public Task<int[]> ScatterRound() => Round(_scatter, ++_scatterRounds);

    private Task<int[]> Round(IGradientAllReduce<float>[] workers, long round) =>
        Task.WhenAll(workers.Select((w, k) => w.AllReduceAsync(new MessageStamp(k, round), 128, _workerGradients[k]).AsTask()));

    private sealed class Silos : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo) => silo
            .AddMemoryGrainStorage(NeuralBasicsTrainingOptions.StorageName)
            .AddNeuralBasicsTraining(o => o.AddParameterServer("exchange", new Sgd(1e-9), persistEvery: 1_000_000));
    }
}
