using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NeuralBasics;

/// <summary>
/// Zeroed buffers whose first element starts a 64-byte cache line, and stays there: the array is
/// allocated on the pinned object heap (never moved by the GC) with a line of slack, and the
/// buffer is the slice that starts on a line.
/// </summary>
/// <remarks>
/// A plain array's data starts 16 bytes into an object that the GC places 8-byte aligned, so a
/// matrix whose rows are whole lines long still has every row straddle two lines. When the
/// matrix multiply splits C's columns between two cores, the line on the seam of every row is then
/// written by both, and passes back and forth between their caches: [120x512]·[512x256] on two
/// AMD EPYC Zen 5 cores took 210–218 µs with C 32 bytes off a line against 170–180 µs with C on
/// one (AVX-512 disabled; with AVX-512, 96–98 against 92). Large matrices, layer outputs and
/// gradients are allocated here so training never pays that; vectors loaded from them do not
/// straddle lines either.
/// </remarks>
internal static unsafe class AlignedMemory
{
    private const int Line = 64;

    /// <summary>
    /// Below this many bytes a plain array. The pinned heap, like the large-object heap, is
    /// collected only with generation 2; from 85,000 bytes an array goes to the large-object heap
    /// anyway, so aligning it changes nothing about when it is freed, while a small short-lived
    /// matrix (a prediction's scores) must stay a cheap generation-0 object. The products whose
    /// columns are split between cores write C of that size and more (a batch of 128 through a
    /// 256-wide layer: 128 KiB).
    /// </summary>
    internal const int MinimumBytes = 85_000;

    /// <summary>A zeroed buffer of <paramref name="length"/> elements, line-aligned when it holds at least 85,000 bytes of unmanaged values.</summary>
    public static Memory<T> Allocate<T>(int length)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>() || (long)length * Unsafe.SizeOf<T>() < MinimumBytes
            || Line % Unsafe.SizeOf<T>() != 0)
            return new T[length];
        int slack = Line / Unsafe.SizeOf<T>();
        var array = GC.AllocateArray<T>(length + slack, pinned: true);
        int offset = (int)((Line - ((nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array)) & (Line - 1))) & (Line - 1)) / Unsafe.SizeOf<T>();
        return array.AsMemory(offset, length);
    }
}
