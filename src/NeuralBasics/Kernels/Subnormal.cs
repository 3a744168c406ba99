using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NeuralBasics.Kernels;

/// <summary>
/// Keeps subnormal numbers (nonzero values below the smallest normal, about 1.18e-38 for float and
/// 2.2e-308 for double) out of state that lives across steps, by replacing them with a zero of the
/// same sign: what the processor's flush-to-zero mode would do, which .NET cannot switch on.
/// </summary>
/// <remarks>
/// Arithmetic on subnormals takes a slow microcode path on x86 cores: an Adam step over 200,704
/// floats of which one in eight had a subnormal first moment took 2.2x as long on an AMD EPYC
/// (Zen 4) and 3-4.7x on an Intel Xeon (Sapphire Rapids). Any state that decays geometrically
/// while its gradient is zero gets there: momentum velocities (μ per step), Adam's moments (β1
/// after about 800 float steps, β2 later), RMSprop and AdaDelta caches, Adamax's norm. Values this
/// small change nothing a float can show in a weight update, so flushing them is not a change of
/// algorithm; NaN and ∞ pass through untouched.
/// </remarks>
internal static class Subnormal
{
    /// <summary><paramref name="value"/>, or a zero of its sign when it is subnormal.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Flush<T>(T value)
        where T : unmanaged, IFloatingPointIeee754<T>
        => T.Abs(value) < Subnormal<T>.SmallestNormal ? T.CopySign(T.Zero, value) : value;

    /// <summary>Each lane of <paramref name="value"/>, or a zero of its sign where it is subnormal.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Flush<T>(Vector<T> value)
        where T : unmanaged, IFloatingPointIeee754<T>
        => FlushBelow(value, Subnormal<T>.SmallestNormalVector);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> FlushBelow<T>(Vector<T> value, Vector<T> threshold)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // |v| < threshold selects the values to flush (zeros too, which stay as they are); clearing
        // every bit but the sign leaves a signed zero. NaN compares false and is kept.
        var magnitude = Vector.AndNot(value, Subnormal<T>.SignBit);
        var tiny = Vector.LessThan(magnitude, threshold);
        return Vector.AndNot(value, tiny & ~Subnormal<T>.SignBit);
    }

    /// <summary>Flushes every subnormal element of <paramref name="values"/> in place.</summary>
    public static void FlushAll<T>(Span<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>
        => FlushBelow(values, Subnormal<T>.SmallestNormal);

    /// <summary>Replaces every element of magnitude below <paramref name="threshold"/> by a zero of its sign, in place.</summary>
    public static void FlushBelow<T>(Span<T> values, T threshold)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T start = ref MemoryMarshal.GetReference(values);
        int i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var limit = new Vector<T>(threshold);
            for (; i + Vector<T>.Count <= values.Length; i += Vector<T>.Count)
                FlushBelow(Vector.LoadUnsafe(ref start, (nuint)i), limit).StoreUnsafe(ref start, (nuint)i);
        }
        for (; i < values.Length; i++)
        {
            ref T value = ref Unsafe.Add(ref start, i);
            if (T.Abs(value) < threshold)
                value = T.CopySign(T.Zero, value);
        }
    }
}

/// <summary>The constants <see cref="Subnormal"/> compares against, per element type.</summary>
internal static class Subnormal<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The smallest positive normal value of <typeparamref name="T"/> (0 for a type this does not know: nothing is flushed).</summary>
    public static readonly T SmallestNormal = FindSmallestNormal();

    /// <summary>
    /// Where softmax clamps shifted scores before exponentiating, so <c>exp</c> never computes a
    /// subnormal: one above the log of the smallest normal (about −86.3 for float, −707.4 for
    /// double), whose exponential is about 2.7 times the smallest normal.
    /// </summary>
    public static readonly T ExponentFloor = SmallestNormal == T.Zero ? T.NegativeInfinity : T.Log(SmallestNormal) + T.One;

    /// <summary>
    /// Exponentials below this (4 times the smallest normal, above <c>exp(ExponentFloor)</c>) count
    /// as zero after the clamp: every clamped entry and nothing a probability could tell apart from 0.
    /// </summary>
    public static readonly T ExponentialZero = SmallestNormal * T.CreateChecked(4);

    public static readonly Vector<T> SmallestNormalVector = Vector.IsHardwareAccelerated && Vector<T>.IsSupported ? new(SmallestNormal) : default;

    /// <summary>Only the sign bit set in each lane (the bits of −0).</summary>
    public static readonly Vector<T> SignBit = Vector.IsHardwareAccelerated && Vector<T>.IsSupported ? new(T.NegativeZero) : default;

    private static T FindSmallestNormal()
    {
        if (typeof(T) == typeof(float))
            return (T)(object)BitConverter.Int32BitsToSingle(0x0080_0000);
        if (typeof(T) == typeof(double))
            return (T)(object)BitConverter.Int64BitsToDouble(0x0010_0000_0000_0000);
        if (typeof(T) == typeof(Half))
            return (T)(object)BitConverter.Int16BitsToHalf(0x0400);
        return T.Zero;
    }
}
