using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using NeuralBasics.Kernels;

namespace NeuralBasics.Benchmarks;

/// <summary>
/// The machine's arithmetic ceiling at the vector width the kernels run, measured in the same run
/// as the GEMM figures: independent multiply-adds on 14 accumulators (more than latency x
/// throughput, so the units never wait, and few enough for the 16 registers of AVX2 and SSE),
/// nothing loaded or stored in the loop.
/// </summary>
/// <remarks>
/// The width is the GEMM's own (<see cref="GemmKernelDescription{T}.Best"/>): 512 bits with AVX-512,
/// 256 with AVX2 (<c>DOTNET_EnableAVX512=0</c> on an AVX-512 machine), 128 with SSE or Arm64 NEON
/// (<c>DOTNET_EnableAVX2=0</c>). The multiply-add is the micro-kernel's own (<see cref="IVectorOps{TVec, T}.MultiplyAdd"/>):
/// fused where the processor fuses it, a multiply and an add on x64 without FMA, so the ceiling
/// is the one the kernel can reach. It agrees with <c>../shared/tools/peak</c>
/// (<c>ISA=avx2</c>, <c>ISA=sse</c>) within a few percent.
/// </remarks>
public class PeakBenchmarks
{
    /// <summary>Iterations of the 14-accumulator body per thread per invocation.</summary>
    public const int Iterations = 1 << 20;

    private const int Accumulators = 14;

    /// <summary>The vector width the kernels run on this process, in bits.</summary>
    public static int VectorBits => GemmKernelDescription<float>.Best.VectorBits;

    /// <summary>Floating-point operations per thread per invocation: 14 multiply-adds x lanes x 2.</summary>
    public static double FlopsPerThread => (double)Iterations * Accumulators * (VectorBits / 32) * 2;

    /// <summary>1 = one thread; 0 = all cores.</summary>
    [Params(1, 0)]
    public int Threads { get; set; }

    public int ThreadCount => Threads == 0 ? Environment.ProcessorCount : Threads;

    private float _sink;

    [GlobalSetup]
    public void Setup()
    {
        if (VectorBits == 0)
            throw new PlatformNotSupportedException("The peak benchmark needs hardware-accelerated vectors (Vector128 at least).");
        Console.WriteLine($"// PeakFma: {VectorBits}-bit vectors, {(HardwareFma.IsSupported || VectorBits == 512 ? "fused multiply-add" : "multiply and add (no FMA)")}");
    }

    /// <remarks>
    /// All cores go through the kernels' own threads (<see cref="KernelThreads"/>), one part each, so
    /// the ceiling pays the dispatch the convolution and GEMM passes pay and no more. Through
    /// <c>Parallel.For</c>, as before, two cores of an AMD EPYC Zen 5 read 383–418 GFLOP/s against
    /// 448–481 from <c>../shared/tools/peak</c> in the same minutes (the thread pool's wake-up in
    /// every 2 ms invocation), which flattered the two-thread percentages of every pass by 12–20%.
    /// </remarks>
    [Benchmark]
    public unsafe float PeakFma()
    {
        if (ThreadCount == 1)
            return _sink = Run(1.0000001f);
        float* sinks = stackalloc float[ThreadCount];
        KernelThreads.Run(&RunPart, sinks, ThreadCount, ThreadCount);
        return _sink = sinks[0];
    }

    private static unsafe void RunPart(void* state, int part) => ((float*)state)[part] = Run(1.0000001f + part);

    private static float Run(float seed) => VectorBits switch
    {
        512 => Run<Vector512<float>, Vector512Ops<float>>(seed),
        256 => Run<Vector256<float>, Vector256Ops<float>>(seed),
        _ => Run<Vector128<float>, Vector128Ops<float>>(seed),
    };

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe float Run<TVec, TOps>(float seed)
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, float>
    {
        float m0 = seed, d0 = 1e-7f;
        var m = TOps.Broadcast(&m0);
        var d = TOps.Broadcast(&d0);
        float* start = stackalloc float[Accumulators];
        for (int k = 0; k < Accumulators; k++)
            start[k] = k;
        TVec a0 = TOps.Broadcast(start), a1 = TOps.Broadcast(start + 1), a2 = TOps.Broadcast(start + 2), a3 = TOps.Broadcast(start + 3);
        TVec a4 = TOps.Broadcast(start + 4), a5 = TOps.Broadcast(start + 5), a6 = TOps.Broadcast(start + 6), a7 = TOps.Broadcast(start + 7);
        TVec a8 = TOps.Broadcast(start + 8), a9 = TOps.Broadcast(start + 9), a10 = TOps.Broadcast(start + 10);
        TVec a11 = TOps.Broadcast(start + 11), a12 = TOps.Broadcast(start + 12), a13 = TOps.Broadcast(start + 13);
        for (int i = 0; i < Iterations; i++)
        {
            a0 = TOps.MultiplyAdd(a0, m, d); a1 = TOps.MultiplyAdd(a1, m, d);
            a2 = TOps.MultiplyAdd(a2, m, d); a3 = TOps.MultiplyAdd(a3, m, d);
            a4 = TOps.MultiplyAdd(a4, m, d); a5 = TOps.MultiplyAdd(a5, m, d);
            a6 = TOps.MultiplyAdd(a6, m, d); a7 = TOps.MultiplyAdd(a7, m, d);
            a8 = TOps.MultiplyAdd(a8, m, d); a9 = TOps.MultiplyAdd(a9, m, d);
            a10 = TOps.MultiplyAdd(a10, m, d); a11 = TOps.MultiplyAdd(a11, m, d);
            a12 = TOps.MultiplyAdd(a12, m, d); a13 = TOps.MultiplyAdd(a13, m, d);
        }
        var sum = TOps.Add(TOps.Add(TOps.Add(a0, a1), TOps.Add(a2, a3)), TOps.Add(TOps.Add(a4, a5), TOps.Add(a6, a7)));
        sum = TOps.Add(sum, TOps.Add(TOps.Add(TOps.Add(a8, a9), TOps.Add(a10, a11)), TOps.Add(a12, a13)));
        float* lanes = stackalloc float[16];
        TOps.Store(sum, lanes);
        return lanes[0];
    }
}
