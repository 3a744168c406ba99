using BenchmarkDotNet.Attributes;
using NeuralBasics.Activations;
using NeuralBasics.Kernels;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Training;

namespace NeuralBasics.Benchmarks;

/// <summary>
/// Training throughput: one optimizer step (forward, softmax loss, backward, L2, Adam) of an MLP
/// 784-256-10 in float on a batch of 128, on one thread and on all cores. The samples/s column is
/// <see cref="BatchSize"/> over the median time.
/// </summary>
public class TrainingBenchmarks
{
    /// <summary>Samples per invocation.</summary>
    public const int BatchSize = 128;

    private TrainingStep<float> _step = null!;
    private Matrix<float> _x;
    private int[] _y = [];

    /// <summary>1 = one thread; 0 = all cores.</summary>
    [Params(1, 0)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Gemm.DefaultMaxDegreeOfParallelism = Threads;
        var net = new NetworkBuilder<float>(784, seed: 1).Dense(256, new Relu()).Dense(10).Build();
        _step = new TrainingStep<float>(net, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-5), new Adam(1e-4));
        // Pixel-like inputs in [0, 1]; the values do not change the work done.
        _x = Data.Uniform<float>(BatchSize, 784, 1);
        foreach (ref float v in _x.Span)
            v = Math.Abs(v);
        var random = new Random(2);
        _y = Enumerable.Range(0, BatchSize).Select(_ => random.Next(10)).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup() => Gemm.DefaultMaxDegreeOfParallelism = 0;

    [Benchmark]
    public float TrainingStepMlp784x256x10() => _step.Run(_x, _y);
}
