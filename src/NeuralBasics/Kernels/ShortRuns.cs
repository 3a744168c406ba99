using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralBasics.Kernels;

/// <summary>
/// Short runs of values — a packed panel's width, a receptive field's row (3 values for a 3x3
/// kernel over one channel, 96 floats over 32 channels) — copied, zeroed or added by whole vectors
/// inline, the widest the processor has first, then narrower ones and single values for the rest.
/// At these lengths a call does more than the work: through <c>TensorPrimitives.Add</c> (its checks
/// and dispatch) a convolution's scatter took 11% of conv2's backward pass on a Zen 5 core (perf
/// samples) against 6.5% inline, and patch rows through the memory copy cost conv2's forward pass
/// 1.06x the time of inline copies (one core, alternated).
/// </summary>
internal static unsafe class ShortRuns<T>
    where T : unmanaged, INumberBase<T>
{
    /// <summary>Copies <paramref name="count"/> values from <paramref name="from"/> to <paramref name="to"/> (not overlapping).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(T* from, T* to, int count)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
            for (; i + Vector512<T>.Count <= count; i += Vector512<T>.Count)
                Vector512.Load(from + i).Store(to + i);
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            for (; i + Vector256<T>.Count <= count; i += Vector256<T>.Count)
                Vector256.Load(from + i).Store(to + i);
        if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
            for (; i + Vector128<T>.Count <= count; i += Vector128<T>.Count)
                Vector128.Load(from + i).Store(to + i);
        for (; i < count; i++)
            to[i] = from[i];
    }

    /// <summary>Zeros <paramref name="count"/> values at <paramref name="to"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Clear(T* to, int count)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
            for (; i + Vector512<T>.Count <= count; i += Vector512<T>.Count)
                Vector512<T>.Zero.Store(to + i);
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            for (; i + Vector256<T>.Count <= count; i += Vector256<T>.Count)
                Vector256<T>.Zero.Store(to + i);
        if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
            for (; i + Vector128<T>.Count <= count; i += Vector128<T>.Count)
                Vector128<T>.Zero.Store(to + i);
        for (; i < count; i++)
            to[i] = T.Zero;
    }

    /// <summary><paramref name="to"/>[i] += <paramref name="from"/>[i] for <paramref name="count"/> values, each one add.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Add(T* from, T* to, int count)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
            for (; i + Vector512<T>.Count <= count; i += Vector512<T>.Count)
                (Vector512.Load(to + i) + Vector512.Load(from + i)).Store(to + i);
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            for (; i + Vector256<T>.Count <= count; i += Vector256<T>.Count)
                (Vector256.Load(to + i) + Vector256.Load(from + i)).Store(to + i);
        if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
            for (; i + Vector128<T>.Count <= count; i += Vector128<T>.Count)
                (Vector128.Load(to + i) + Vector128.Load(from + i)).Store(to + i);
        for (; i < count; i++)
            to[i] += from[i];
    }
}
