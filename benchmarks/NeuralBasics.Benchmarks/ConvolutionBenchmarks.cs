using BenchmarkDotNet.Attributes;
using NeuralBasics.Layers;

namespace NeuralBasics.Benchmarks;

/// <summary>
/// One layer of the Fashion-MNIST CNN (conv 3x3, 32 filters, padding 1 → pool → conv 3x3, 64
/// filters, padding 1 → pool → dense) at batch 128, float: each convolution's forward and backward
/// pass as training runs them, with its ReLU and pooling (<c>Conv2D.ForwardPooled</c>,
/// <c>BackwardPooled</c>) — the first layer (9 taps) through the one-pass kernel, its backward
/// computing only the weight and bias gradients; the second (288 taps) through the GEMM a chunk of
/// images at a time, with the patch copies, its backward also the input gradient. The GFLOP/s and
/// % of peak columns count the convolutions' multiply-adds (2 per weight per output pixel, per
/// product), not the ReLU's or the pooling's work.
/// </summary>
public class ConvolutionBenchmarks
{
    private Conv2D<float> _layer = null!;
    private Matrix<float> _input, _outputGradient, _inputGradient, _pooled, _pooledGradient;

    [ParamsSource(nameof(Cases))]
    public ConvCase Case { get; set; } = null!;

    /// <summary>1 = one thread; 0 = all cores.</summary>
    [Params(1, 0)]
    public int Threads { get; set; }

    public static IEnumerable<ConvCase> Cases()
    {
        foreach (bool backward in new[] { false, true })
        {
            yield return new ConvCase(new ImageShape(1, 28, 28), 32, backward, First: true);
            yield return new ConvCase(new ImageShape(32, 14, 14), 64, backward, First: false);
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        Kernels.Gemm.DefaultMaxDegreeOfParallelism = Threads;
        _layer = new Conv2D<float>(Case.Input, Case.Filters, 3, 1, 1, WeightInit.He, seed: 1);
        _input = Data.Uniform<float>(ConvCase.Batch, _layer.InputCount, 1);
        _outputGradient = Data.Uniform<float>(ConvCase.Batch, _layer.OutputCount, 2);
        _inputGradient = Case.First ? default : new Matrix<float>(ConvCase.Batch, _layer.InputCount);
        _pooled = new Matrix<float>(ConvCase.Batch, _layer.OutputCount / 4);
        _pooledGradient = Data.Uniform<float>(ConvCase.Batch, _layer.OutputCount / 4, 3);
        _layer.ForwardPooled(_input, _pooled);
    }

    [GlobalCleanup]
    public void Cleanup() => Kernels.Gemm.DefaultMaxDegreeOfParallelism = 0;

    [Benchmark]
    public void Pass()
    {
        if (Case.Backward)
            _layer.BackwardPooled(_input, _pooledGradient, _outputGradient, Case.First ? default : _inputGradient.AsSpan());
        else
            _layer.ForwardPooled(_input, _pooled);
    }
}

/// <summary>A convolution of the benchmark: its input, filters, pass, and whether it is the network's first layer.</summary>
public sealed record ConvCase(ImageShape Input, int Filters, bool Backward, bool First) : IHasFlops
{
    public const int Batch = 128;

    /// <summary>2·(pixels·k²·C·filters) per product: one product forward, two backward (one for the first layer).</summary>
    public double Flops => 2.0 * Batch * Input.Height * Input.Width * 9 * Input.Channels * Filters * (Backward && !First ? 2 : 1);

    /// <summary>conv1 (1x28x28 → 32) or conv2 (32x14x14 → 64), with its ReLU and pooling, forward or backward.</summary>
    public override string ToString() => $"{(First ? "conv1" : "conv2")}+pool {(Backward ? "backward" : "forward")}";
}
