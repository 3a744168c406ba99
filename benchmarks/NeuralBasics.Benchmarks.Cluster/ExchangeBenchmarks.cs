using BenchmarkDotNet.Attributes;
using NeuralBasics.Activations;
using NeuralBasics.Layers;
using NeuralBasics.Optimizers;
using NeuralBasics.Orleans;
using NeuralBasics.Training.Distributed;
using Orleans.TestingHost;

namespace NeuralBasics.Benchmarks.Cluster;

/// <summary>
/// One exchange of the MLP 784-256-10's parameters (203,530 floats, 814 KB each way where tensors
/// travel) between a client and the grains of a two-silo TestingHost cluster whose silos and client
/// talk over TCP on 127.0.0.1: a Downpour fetch and push, an EASGD exchange (both ways), and a
/// one-worker all-reduce round (both ways). The grain sits on either silo, so a call may take an
/// extra silo-to-silo hop, as it would in a real cluster.
/// </summary>
public class ExchangeBenchmarks
{
    private TestCluster _cluster = null!;
    private OrleansParameterServer<float> _server = null!;
    private OrleansCenterVariable<float> _center = null!;
    private OrleansAllReduce<float> _allReduce = null!;
    private Memory<float>[] _buffers = null!;
    private ReadOnlyMemory<float>[] _gradients = null!;
    private long _fetches, _pushes, _exchanges, _rounds;

    [GlobalSetup]
    public void Setup()
    {
        _cluster = LoopbackCluster.Start<Silos>();

        var net = new NetworkBuilder<float>(784, seed: 1).Dense(256, new Relu()).Dense(10).Build();
        _buffers = [.. net.Parameters.Select(p => p.Value.Memory.ToArray().AsMemory())];
        _gradients = [.. _buffers.Select(b => (ReadOnlyMemory<float>)Enumerable.Repeat(1e-3f, b.Length).ToArray())];
        var initial = _buffers.Select(b => (ReadOnlyMemory<float>)b.ToArray()).ToArray();
        _server = new OrleansParameterServer<float>(_cluster.Client, "exchange");
        _server.InitializeAsync(initial).GetAwaiter().GetResult();
        _center = new OrleansCenterVariable<float>(_cluster.Client, "exchange");
        _center.InitializeAsync(initial).GetAwaiter().GetResult();
        _allReduce = OrleansAllReduce<float>.JoinAsync(_cluster.Client, "exchange", workerCount: 1).GetAwaiter().GetResult();
        Console.WriteLine($"// parameters: {_buffers.Sum(b => b.Length):N0} floats; server on {_server.Grain.Status().GetAwaiter().GetResult().Silo}");
    }

    [GlobalCleanup]
    public void Cleanup() => LoopbackCluster.Stop(_cluster);

    /// <summary>Downpour: the server's parameters into the replica.</summary>
    [Benchmark]
    public ValueTask<long> Fetch() => _server.FetchAsync(new MessageStamp(0, ++_fetches), _buffers);

    /// <summary>Downpour: a gradient to the server, which applies SGD to its parameters.</summary>
    [Benchmark]
    public ValueTask<ExchangeReply> Push() => _server.PushAsync(new MessageStamp(0, ++_pushes), 0, _gradients);

    /// <summary>EASGD: the replica to the center, the center back.</summary>
    [Benchmark]
    public ValueTask<ExchangeReply> Exchange() => _center.ExchangeAsync(new MessageStamp(0, ++_exchanges), 1e-4f, _buffers);

    /// <summary>Synchronous: a gradient in, the sum over (one) worker back.</summary>
    [Benchmark]
    public ValueTask<int> AllReduce() => _allReduce.AllReduceAsync(new MessageStamp(0, ++_rounds), 128, _buffers);

    private sealed class Silos : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo) => silo
            .AddMemoryGrainStorage(NeuralBasicsTrainingOptions.StorageName)
            .AddNeuralBasicsTraining(o =>
            {
                // Persisting is a storage cost, not a network one: rarely, here.
                o.AddParameterServer("exchange", new Sgd(1e-6), persistEvery: 1_000_000);
                o.CenterPersistEvery = 1_000_000;
            });
    }
}
