using System.Runtime.CompilerServices;

namespace NeuralBasics.Kernels;

/// <summary>
/// GEMM for narrow outputs, N ≤ W (one vector of W lanes), as the output layer's products are
/// (N = 10 classes): one vector holds a whole row of C, so the blocked kernel's 2W-wide tiles would
/// waste most of their lanes and its packing of A would cost as much as the arithmetic. Here op(B)
/// is packed once into a K x W panel (zero past N) and twelve rows of C accumulate in twelve vector
/// registers, broadcasting op(A)'s values straight from A as stored: no packing of A at all.
/// </summary>
internal static unsafe class GemmNarrowKernel
{
    /// <summary>Computes the rows [row0, row0 + rows) of C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T, TVec, TOps>(in GemmArgs<T> args, T* packedB, T* tile, int row0, int rows)
        where T : unmanaged, System.Numerics.INumber<T>
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
    {
        int k = args.K, w = TOps.Count;
        // op(A)[i, p] is A[i·lda + p], or A[p·lda + i] when transposed: step along p by these.
        long rowStride = args.TransA ? 1 : args.Lda;
        long depthStride = args.TransA ? args.Lda : 1;
        int i = row0, end = row0 + rows;
        for (; i + 12 <= end; i += 12)
        {
            T* a = args.A + i * rowStride;

            TVec c0 = TOps.Zero;
            TVec c1 = TOps.Zero;
            TVec c2 = TOps.Zero;
            TVec c3 = TOps.Zero;
            TVec c4 = TOps.Zero;
            TVec c5 = TOps.Zero;
            TVec c6 = TOps.Zero;
            TVec c7 = TOps.Zero;
            TVec c8 = TOps.Zero;
            TVec c9 = TOps.Zero;
            TVec c10 = TOps.Zero;
            TVec c11 = TOps.Zero;
            T* b = packedB;
            for (int p = 0; p < k; p++)
            {
                TVec bp = TOps.Load(b);
                c0 = TOps.MultiplyAdd(TOps.Broadcast(a + 0 * rowStride), bp, c0);
                c1 = TOps.MultiplyAdd(TOps.Broadcast(a + 1 * rowStride), bp, c1);
                c2 = TOps.MultiplyAdd(TOps.Broadcast(a + 2 * rowStride), bp, c2);
                c3 = TOps.MultiplyAdd(TOps.Broadcast(a + 3 * rowStride), bp, c3);
                c4 = TOps.MultiplyAdd(TOps.Broadcast(a + 4 * rowStride), bp, c4);
                c5 = TOps.MultiplyAdd(TOps.Broadcast(a + 5 * rowStride), bp, c5);
                c6 = TOps.MultiplyAdd(TOps.Broadcast(a + 6 * rowStride), bp, c6);
                c7 = TOps.MultiplyAdd(TOps.Broadcast(a + 7 * rowStride), bp, c7);
                c8 = TOps.MultiplyAdd(TOps.Broadcast(a + 8 * rowStride), bp, c8);
                c9 = TOps.MultiplyAdd(TOps.Broadcast(a + 9 * rowStride), bp, c9);
                c10 = TOps.MultiplyAdd(TOps.Broadcast(a + 10 * rowStride), bp, c10);
                c11 = TOps.MultiplyAdd(TOps.Broadcast(a + 11 * rowStride), bp, c11);
                a += depthStride;
                b += w;
            }
            WriteRow<T, TVec, TOps>(args, tile, i + 0, c0);
            WriteRow<T, TVec, TOps>(args, tile, i + 1, c1);
            WriteRow<T, TVec, TOps>(args, tile, i + 2, c2);
            WriteRow<T, TVec, TOps>(args, tile, i + 3, c3);
            WriteRow<T, TVec, TOps>(args, tile, i + 4, c4);
            WriteRow<T, TVec, TOps>(args, tile, i + 5, c5);
            WriteRow<T, TVec, TOps>(args, tile, i + 6, c6);
            WriteRow<T, TVec, TOps>(args, tile, i + 7, c7);
            WriteRow<T, TVec, TOps>(args, tile, i + 8, c8);
            WriteRow<T, TVec, TOps>(args, tile, i + 9, c9);
            WriteRow<T, TVec, TOps>(args, tile, i + 10, c10);
            WriteRow<T, TVec, TOps>(args, tile, i + 11, c11);
        }
        // Four rows at a time, then one: a single accumulator would wait on its own FMA latency every step.
        for (; i + 4 <= end; i += 4)
        {
            T* a = args.A + i * rowStride;
            TVec c0 = TOps.Zero, c1 = TOps.Zero, c2 = TOps.Zero, c3 = TOps.Zero;
            T* b = packedB;
            for (int p = 0; p < k; p++)
            {
                TVec bp = TOps.Load(b);
                c0 = TOps.MultiplyAdd(TOps.Broadcast(a), bp, c0);
                c1 = TOps.MultiplyAdd(TOps.Broadcast(a + rowStride), bp, c1);
                c2 = TOps.MultiplyAdd(TOps.Broadcast(a + 2 * rowStride), bp, c2);
                c3 = TOps.MultiplyAdd(TOps.Broadcast(a + 3 * rowStride), bp, c3);
                a += depthStride;
                b += w;
            }
            WriteRow<T, TVec, TOps>(args, tile, i, c0);
            WriteRow<T, TVec, TOps>(args, tile, i + 1, c1);
            WriteRow<T, TVec, TOps>(args, tile, i + 2, c2);
            WriteRow<T, TVec, TOps>(args, tile, i + 3, c3);
        }
        for (; i < end; i++)
        {
            T* a = args.A + i * rowStride;
            TVec c0 = TOps.Zero;
            T* b = packedB;
            for (int p = 0; p < k; p++)
            {
                c0 = TOps.MultiplyAdd(TOps.Broadcast(a), TOps.Load(b), c0);
                a += depthStride;
                b += w;
            }
            WriteRow<T, TVec, TOps>(args, tile, i, c0);
        }
    }

    /// <summary>C[row, 0..N) (+)= the first N lanes of <paramref name="value"/> (C's row is shorter than a vector).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteRow<T, TVec, TOps>(in GemmArgs<T> args, T* tile, int row, TVec value)
        where T : unmanaged, System.Numerics.INumber<T>
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
    {
        TOps.Store(value, tile);
        T* c = args.C + (long)row * args.Ldc;
        if (args.Accumulate)
            for (int j = 0; j < args.N; j++)
                c[j] += tile[j];
        else
            for (int j = 0; j < args.N; j++)
                c[j] = tile[j];
    }

    /// <summary>Packs op(B) (K x N) into a K x W panel, zero past column N.</summary>
    public static void PackB<T>(in GemmArgs<T> args, int w, T* destination)
        where T : unmanaged, System.Numerics.INumber<T>
    {
        new Span<T>(destination, args.K * w).Clear();
        if (!args.TransB)
        {
            for (int p = 0; p < args.K; p++)
                new ReadOnlySpan<T>(args.B + (long)p * args.Ldb, args.N).CopyTo(new Span<T>(destination + (long)p * w, args.N));
        }
        else
        {
            for (int j = 0; j < args.N; j++)
            {
                T* source = args.B + (long)j * args.Ldb;
                for (int p = 0; p < args.K; p++)
                    destination[(long)p * w + j] = source[p];
            }
        }
    }
}
