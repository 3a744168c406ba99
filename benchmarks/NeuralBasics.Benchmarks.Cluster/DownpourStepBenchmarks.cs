using BenchmarkDotNet.Attributes;
using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Orleans;
using NeuralBasics.Training;
using NeuralBasics.Training.Distributed;
using Orleans.TestingHost;

namespace NeuralBasics.Benchmarks.Cluster;

/// <summary>
/// Whole Downpour steps of one worker (the MLP 784-256-10, batch 128, a push every step and a fetch
/// every second, as the docs' model and the cluster sample), 16 steps per invocation: against an
/// in-process server (the compute and nothing else to speak of, c), and against the parameter
/// server as two shard grains on the two-silo loopback cluster (<see cref="ExchangeBenchmarks"/>'s),
/// with the exchanges awaited in turn or overlapping the next steps' compute (<see cref="DownpourOptions.Overlap"/>).
/// Everything shares the machine's cores.
/// </summary>
public class DownpourStepBenchmarks
{
    private const int Steps = 16, Batch = 128;
    private TestCluster _cluster = null!;
    private ShardedParameterServer<float> _sharded = null!;
    private InProcessParameterServer<float> _inProcess = null!;
    private Sequential<float> _start = null!;
    private DataSet<float> _data = null!;
    private int[] _rows = null!;
    private long _incarnation;

    [GlobalSetup]
    public void Setup()
    {
        _cluster = LoopbackCluster.Start<Silos>();
        _start = new NetworkBuilder<float>(784, seed: 1).Dense(256, new Relu()).Dense(10).Build();
        ReadOnlyMemory<float>[] initial = [.. _start.Parameters.Select(p => (ReadOnlyMemory<float>)p.Value.Memory.ToArray())];
        _sharded = OrleansParameterServer<float>.CreateShardedAsync(_cluster.Client, "steps", initial, shards: 2).GetAwaiter().GetResult();
        _inProcess = new InProcessParameterServer<float>(initial, new Adam(1e-3));
        var random = new Random(3);
        var features = new Matrix<float>(Steps * Batch, 784);
        foreach (ref float v in features.Span)
            v = (float)random.NextDouble();
        _data = new DataSet<float>(features, [.. Enumerable.Range(0, Steps * Batch).Select(i => i % 10)], 10);
        _rows = [.. Enumerable.Range(0, Steps * Batch)];
    }

    [GlobalCleanup]
    public void Cleanup() => LoopbackCluster.Stop(_cluster);

    /// <summary>16 steps against a server in this process.</summary>
    [Benchmark(Baseline = true)]
    public Task<WorkerReport> InProcess() => Run(_inProcess, overlap: false);

    /// <summary>16 steps against two shard grains, each exchange awaited.</summary>
    [Benchmark]
    public Task<WorkerReport> ShardGrains() => Run(_sharded, overlap: false);

    /// <summary>16 steps against two shard grains, the exchanges overlapping the next steps' compute.</summary>
    [Benchmark]
    public Task<WorkerReport> ShardGrainsOverlapped() => Run(_sharded, overlap: true);

    private Task<WorkerReport> Run(IParameterServer<float> server, bool overlap) =>
        new DownpourWorker<float>(new TrainingSetup<float>(_start.Clone(), SoftmaxCrossEntropyLoss.Instance, null, new Adam(1e-3)), server, 0,
            new DownpourOptions { Epochs = 1, BatchSize = Batch, FetchEvery = 2, PushEvery = 1, Seed = 1, Overlap = overlap })
        {
            Incarnation = ++_incarnation,
        }.RunAsync(_data, _rows);

    private sealed class Silos : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo) => silo
            .AddMemoryGrainStorage(NeuralBasicsTrainingOptions.StorageName)
            .AddNeuralBasicsTraining(o => o.AddParameterServer("steps", new Adam(1e-3), persistEvery: 1_000_000));
    }
}
