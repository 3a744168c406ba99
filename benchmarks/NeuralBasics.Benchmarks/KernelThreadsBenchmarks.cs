using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using NeuralBasics.Kernels;

namespace NeuralBasics.Benchmarks;

/// <summary>
/// One parallel call of two 50 µs parts on the kernel threads, after the calling thread has been
/// busy elsewhere for <see cref="IdleMicroseconds"/> (so the workers had that long to fall asleep).
/// Ideal: the gap plus 50 µs. Each extra microsecond is waiting for a worker to wake or for the
/// caller to be woken at the end; the workers spin for <see cref="KernelThreads.SpinMicroseconds"/>
/// before they block, so gaps shorter than that should cost nothing.
/// </summary>
public unsafe class KernelThreadsBenchmarks
{
    private static readonly long s_partTicks = Stopwatch.Frequency / 20_000; // 50 µs

    /// <summary>How long the caller works on its own before the call.</summary>
    [Params(0, 50, 1000)]
    public int IdleMicroseconds { get; set; }

    [Benchmark]
    public void TwoPartsAfterIdle()
    {
        BusyWait(Stopwatch.Frequency * IdleMicroseconds / 1_000_000);
        KernelThreads.Run(&Part, null, 2);
    }

    private static void Part(void* state, int part) => BusyWait(s_partTicks);

    private static void BusyWait(long ticks)
    {
        long until = Stopwatch.GetTimestamp() + ticks;
        while (Stopwatch.GetTimestamp() < until)
        {
        }
    }
}
