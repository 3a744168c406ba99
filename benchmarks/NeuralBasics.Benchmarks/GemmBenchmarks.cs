using System.Numerics;
using BenchmarkDotNet.Attributes;

namespace NeuralBasics.Benchmarks;

/// <summary>
/// NeuralBasics GEMM at the square sizes and the training shapes, on one thread and on all cores.
/// The GFLOP/s and % of peak columns read the figure against <see cref="PeakBenchmarks"/> from the
/// same run.
/// </summary>
[GenericTypeArguments(typeof(float))]
[GenericTypeArguments(typeof(double))]
public class GemmBenchmarks<T>
    where T : unmanaged, INumber<T>
{
    private Matrix<T> _a, _b, _c;

    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = GemmShape.Square(64);

    /// <summary>1 = one thread; 0 = all cores.</summary>
    [Params(1, 0)]
    public int Threads { get; set; }

    public static IEnumerable<GemmShape> Shapes() => GemmShape.All();

    [GlobalSetup]
    public void Setup()
    {
        _a = Data.Uniform<T>(Shape.TransposeA ? Shape.K : Shape.M, Shape.TransposeA ? Shape.M : Shape.K, 1);
        _b = Data.Uniform<T>(Shape.K, Shape.N, 2);
        _c = new Matrix<T>(Shape.M, Shape.N);
    }

    [Benchmark]
    public void Gemm()
    {
        if (Shape.TransposeA)
            NeuralBasics.Kernels.Gemm.MultiplyTransposeA(_a, _b, _c, maxDegreeOfParallelism: Threads);
        else
            NeuralBasics.Kernels.Gemm.Multiply(_a, _b, _c, maxDegreeOfParallelism: Threads);
    }
}

/// <summary>
/// The loop a user would write without a kernel (i, p, j order, so the inner loop runs along rows
/// of B and C): the baseline the blocked kernel is compared with. One thread, float.
/// </summary>
public class NaiveGemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];

    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = GemmShape.Square(64);

    public static IEnumerable<GemmShape> Shapes() => GemmShape.All();

    [GlobalSetup]
    public void Setup()
    {
        _a = Data.Uniform<float>(Shape.M, Shape.K, 1).Span.ToArray();
        _b = Data.Uniform<float>(Shape.K, Shape.N, 2).Span.ToArray();
        _c = new float[Shape.M * Shape.N];
    }

    [Benchmark]
    public void NaiveLoop()
    {
        int m = Shape.M, n = Shape.N, k = Shape.K;
        float[] a = _a, b = _b, c = _c;
        Array.Clear(c);
        for (int i = 0; i < m; i++)
        {
            for (int p = 0; p < k; p++)
            {
                // op(A)[i, p], reading A as stored.
                float x = Shape.TransposeA ? a[p * m + i] : a[i * k + p];
                int bRow = p * n, cRow = i * n;
                for (int j = 0; j < n; j++)
                    c[cRow + j] += x * b[bRow + j];
            }
        }
    }
}

internal static class Data
{
    public static Matrix<T> Uniform<T>(int rows, int columns, int seed)
        where T : unmanaged, INumber<T>
    {
        var random = new Random(seed);
        var m = new Matrix<T>(rows, columns);
        foreach (ref T x in m.Span)
            x = T.CreateChecked(random.NextDouble() * 2 - 1);
        return m;
    }
}
