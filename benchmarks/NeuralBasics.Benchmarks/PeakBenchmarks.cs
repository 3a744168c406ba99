using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;

namespace NeuralBasics.Benchmarks;

/// <summary>
/// The machine's arithmetic ceiling, measured in the same run as the GEMM figures: independent
/// fused multiply-adds on 16 <see cref="Vector512{T}"/> accumulators (more than latency x
/// throughput, so the FMA units never wait), nothing loaded or stored in the loop.
/// </summary>
public class PeakBenchmarks
{
    /// <summary>Iterations of the 16-FMA body per thread per invocation.</summary>
    public const int Iterations = 1 << 20;

    /// <summary>Floating-point operations per thread per invocation: 16 FMAs x 16 lanes x 2.</summary>
    public static double FlopsPerThread => Iterations * 16.0 * Vector512<float>.Count * 2;

    /// <summary>1 = one thread; 0 = all cores.</summary>
    [Params(1, 0)]
    public int Threads { get; set; }

    public int ThreadCount => Threads == 0 ? Environment.ProcessorCount : Threads;

    private float _sink;

    [GlobalSetup]
    public void Setup()
    {
        if (!Vector512.IsHardwareAccelerated)
            throw new PlatformNotSupportedException("The peak benchmark needs AVX-512 (Vector512).");
    }

    [Benchmark]
    public float PeakFma()
    {
        if (ThreadCount == 1)
            return _sink = Run(1.0000001f);
        Parallel.For(0, ThreadCount, new ParallelOptions { MaxDegreeOfParallelism = ThreadCount }, i => Run(1.0000001f + i));
        return _sink;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Run(float seed)
    {
        var m = Vector512.Create(seed);
        var d = Vector512.Create(1e-7f);
        Vector512<float> a0 = Vector512.Create(0f), a1 = Vector512.Create(1f), a2 = Vector512.Create(2f), a3 = Vector512.Create(3f);
        Vector512<float> a4 = Vector512.Create(4f), a5 = Vector512.Create(5f), a6 = Vector512.Create(6f), a7 = Vector512.Create(7f);
        Vector512<float> a8 = Vector512.Create(8f), a9 = Vector512.Create(9f), a10 = Vector512.Create(10f), a11 = Vector512.Create(11f);
        Vector512<float> a12 = Vector512.Create(12f), a13 = Vector512.Create(13f), a14 = Vector512.Create(14f), a15 = Vector512.Create(15f);
        for (int i = 0; i < Iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, d); a1 = Vector512.FusedMultiplyAdd(a1, m, d);
            a2 = Vector512.FusedMultiplyAdd(a2, m, d); a3 = Vector512.FusedMultiplyAdd(a3, m, d);
            a4 = Vector512.FusedMultiplyAdd(a4, m, d); a5 = Vector512.FusedMultiplyAdd(a5, m, d);
            a6 = Vector512.FusedMultiplyAdd(a6, m, d); a7 = Vector512.FusedMultiplyAdd(a7, m, d);
            a8 = Vector512.FusedMultiplyAdd(a8, m, d); a9 = Vector512.FusedMultiplyAdd(a9, m, d);
            a10 = Vector512.FusedMultiplyAdd(a10, m, d); a11 = Vector512.FusedMultiplyAdd(a11, m, d);
            a12 = Vector512.FusedMultiplyAdd(a12, m, d); a13 = Vector512.FusedMultiplyAdd(a13, m, d);
            a14 = Vector512.FusedMultiplyAdd(a14, m, d); a15 = Vector512.FusedMultiplyAdd(a15, m, d);
        }
        var sum = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11)) + ((a12 + a13) + (a14 + a15));
        return Vector512.Sum(sum);
    }
}
