using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NeuralBasics.Kernels;

/// <summary>
/// The packing half of the blocked GEMM (<see cref="GemmDriver{T}"/>): op(A) into MR-tall and op(B)
/// into NR-wide micro-panels, contiguous in the order the micro-kernel reads them, and the
/// per-thread buffers they go into.
/// </summary>
internal static unsafe class GemmPacking<T>
    where T : unmanaged, INumber<T>
{
    private const int Alignment = 64;

    [ThreadStatic] private static PackBuffers? t_buffers;

    /// <summary>This thread's packing buffers.</summary>
    public static PackBuffers Buffers => t_buffers ??= new PackBuffers();

    /// <summary>
    /// Packs rows [i0, i0 + mc) and depth [p0, p0 + kc) of op(A) into MR-tall micro-panels:
    /// panel q holds, for each p, the MR values of rows q·MR .. q·MR + MR - 1, zero past mc.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA(in GemmArgs<T> args, int i0, int mc, int p0, int kc, int mr, T* dst)
    {
        if (args.AOffsets != null)
        {
            Gather(args, i0, mc, p0, kc, mr, dst);
            return;
        }
        if (args.TransA)
        {
            // Aᵀ stored: for each p the block's rows are contiguous. For the first layer's weight
            // gradient Xᵀ·dZ (784 x 128 x 256), dealing them out (below) instead of one pass over
            // all kc rows per panel took packing from 6.5% to 4.4% of the product (one AMD EPYC
            // Zen 4 core).
            DealOut(args.A + (long)p0 * args.Lda + i0, args.Lda, kc, mc, mr, dst);
            return;
        }
        for (int ir = 0; ir < mc; ir += mr)
        {
            // A row-major: each row is contiguous along p, the panel wants p-major order.
            int rows = Math.Min(mr, mc - ir);
            T* src = args.A + (long)(i0 + ir) * args.Lda + p0;
            Interleave(src, args.Lda, rows, kc, dst, mr);
            dst += mr * kc;
        }
    }

    /// <summary>
    /// Packs depth [p0, p0 + kc) and columns [j0, j0 + nc) of op(B) into NR-wide micro-panels:
    /// panel q holds, for each p, the NR values of columns q·NR .. q·NR + NR - 1, zero past nc.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB(in GemmArgs<T> args, int p0, int kc, int j0, int nc, int nr, T* dst)
    {
        if (!args.TransB)
        {
            // B row-major: each p's NR values are contiguous. Dealt out row by row (below) instead
            // of panel by panel, which jumped a whole row of B every NR values: packing 512 x 512
            // went from 3.0% to 2.3% of a 512³ product (one AMD EPYC Zen 4 core).
            DealOut(args.B + (long)p0 * args.Ldb + j0, args.Ldb, kc, nc, nr, dst);
            return;
        }
        for (int jr = 0; jr < nc; jr += nr)
        {
            // Bᵀ stored: column j of op(B) is contiguous along p, the panel wants p-major order.
            int cols = Math.Min(nr, nc - jr);
            T* src = args.B + (long)(j0 + jr) * args.Ldb + p0;
            Interleave(src, args.Ldb, cols, kc, dst, nr);
            dst += nr * kc;
        }
    }

    /// <summary>PackA of a gathered op(A) (<see cref="GemmArgs{T}.AOffsets"/>): value by value, for the tiles the kernel cannot read in place.</summary>
    private static void Gather(in GemmArgs<T> args, int i0, int mc, int p0, int kc, int mr, T* dst)
    {
        for (int ir = 0; ir < mc; ir += mr, dst += (long)mr * kc)
        {
            int rows = Math.Min(mr, mc - ir);
            int* columns = args.AColumns + i0 + ir;
            for (int p = 0; p < kc; p++)
            {
                T* step = args.A + args.AOffsets[p0 + p];
                T* d = dst + (long)p * mr;
                for (int r = 0; r < rows; r++)
                    d[r] = step[columns[r]];
                for (int r = rows; r < mr; r++)
                    d[r] = T.Zero;
            }
        }
    }

    /// <summary>
    /// The copying half of packing: <paramref name="depth"/> source lines of <paramref name="length"/>
    /// values, <paramref name="stride"/> apart, dealt out to panels <paramref name="width"/> wide:
    /// <c>dst[q·width·depth + p·width + r] = src[p·stride + q·width + r]</c>, zero past the length.
    /// Line by line, so the reads are one sequential stream the prefetcher follows and the writes go
    /// to one stream per panel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DealOut(T* src, int stride, int depth, int length, int width, T* dst)
    {
        int full = length / width * width;
        long panel = (long)width * depth;
        for (int p = 0; p < depth; p++, src += stride)
        {
            T* d = dst + (long)p * width;
            for (int q = 0; q < full; q += width, d += panel)
                ShortRuns<T>.Copy(src + q, d, width);
            if (full < length)
            {
                ShortRuns<T>.Copy(src + full, d, length - full);
                for (int r = length - full; r < width; r++)
                    d[r] = T.Zero;
            }
        }
    }

    /// <summary>
    /// The transposing half of packing: <c>dst[p * width + r] = src[r * stride + p]</c> for
    /// r &lt; <paramref name="lines"/> and p &lt; <paramref name="depth"/>, and zero for
    /// <paramref name="lines"/> ≤ r &lt; <paramref name="width"/>. Four source lines are read side
    /// by side so each pass over p makes four sequential streams and stores in groups.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Interleave(T* src, int stride, int lines, int depth, T* dst, int width)
    {
        int r = 0;
        for (; r + 4 <= lines; r += 4)
        {
            T* s0 = src + (long)r * stride, s1 = s0 + stride, s2 = s1 + stride, s3 = s2 + stride;
            T* d = dst + r;
            int p = 0;
            if (typeof(T) == typeof(float) && System.Runtime.Intrinsics.X86.Sse.IsSupported)
            {
                // Four lines by four depths at a time: load a 4 x 4 block, transpose it in registers,
                // store four groups of four (about a third of the loads and stores of one at a time).
                for (; p + 4 <= depth; p += 4, d += 4 * width)
                    Transpose4x4((float*)s0 + p, (float*)s1 + p, (float*)s2 + p, (float*)s3 + p, (float*)d, width);
            }
            for (; p < depth; p++, d += width)
            {
                d[0] = s0[p];
                d[1] = s1[p];
                d[2] = s2[p];
                d[3] = s3[p];
            }
        }
        for (; r < lines; r++)
        {
            T* s = src + (long)r * stride;
            T* d = dst + r;
            for (int p = 0; p < depth; p++, d += width)
                *d = s[p];
        }
        for (; r < width; r++)
        {
            T* d = dst + r;
            for (int p = 0; p < depth; p++, d += width)
                *d = T.Zero;
        }
    }

    /// <summary>
    /// <c>d[i * width + j] = s_j[i]</c> for i, j &lt; 4: the 4 x 4 transpose of SSE's
    /// <c>_MM_TRANSPOSE4_PS</c> (two unpacks and two half moves per output).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4x4(float* s0, float* s1, float* s2, float* s3, float* d, int width)
    {
        var r0 = Vector128.Load(s0);
        var r1 = Vector128.Load(s1);
        var r2 = Vector128.Load(s2);
        var r3 = Vector128.Load(s3);
        var t0 = System.Runtime.Intrinsics.X86.Sse.UnpackLow(r0, r1);   // r0[0] r1[0] r0[1] r1[1]
        var t1 = System.Runtime.Intrinsics.X86.Sse.UnpackLow(r2, r3);   // r2[0] r3[0] r2[1] r3[1]
        var t2 = System.Runtime.Intrinsics.X86.Sse.UnpackHigh(r0, r1);  // r0[2] r1[2] r0[3] r1[3]
        var t3 = System.Runtime.Intrinsics.X86.Sse.UnpackHigh(r2, r3);  // r2[2] r3[2] r2[3] r3[3]
        System.Runtime.Intrinsics.X86.Sse.MoveLowToHigh(t0, t1).Store(d);
        System.Runtime.Intrinsics.X86.Sse.MoveHighToLow(t1, t0).Store(d + width);
        System.Runtime.Intrinsics.X86.Sse.MoveLowToHigh(t2, t3).Store(d + 2 * width);
        System.Runtime.Intrinsics.X86.Sse.MoveHighToLow(t3, t2).Store(d + 3 * width);
    }

    /// <summary>
    /// One thread's packing buffers: pinned (on the pinned object heap, so their addresses never
    /// change), 64-byte aligned, grown on demand and then reused by every later call.
    /// </summary>
    public sealed class PackBuffers
    {
        private T[] _a = [], _b = [], _tile = [];
        public nint A, B, Tile;

        public void Ensure(int aLength, int bLength, int tileLength)
        {
            Grow(ref _a, ref A, aLength);
            Grow(ref _b, ref B, bLength);
            Grow(ref _tile, ref Tile, tileLength);
        }

        private static void Grow(ref T[] array, ref nint aligned, int length)
        {
            int slack = Alignment / sizeof(T);
            if (array.Length >= length + slack)
                return;
            array = GC.AllocateUninitializedArray<T>(length + slack, pinned: true);
            nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
            aligned = (start + Alignment - 1) & ~(nint)(Alignment - 1);
        }
    }
}
