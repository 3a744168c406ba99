using System.Runtime.CompilerServices;

namespace NeuralBasics.Kernels;

/// <summary>The block of C a narrow kernel holds in registers: <see cref="Rows"/> rows of <see cref="Vectors"/> vectors each.</summary>
internal interface INarrowShape
{
    static abstract int Rows { get; }

    /// <summary>1, 2 or 3: the vectors of one row of C (N ≤ Vectors · W).</summary>
    static abstract int Vectors { get; }
}

/// <summary>12 rows of one vector: 12 accumulators.</summary>
internal struct Narrow12x1 : INarrowShape
{
    public static int Rows => 12;
    public static int Vectors => 1;
}

/// <summary>6 rows of two vectors: 12 accumulators, two B vectors and a broadcast in 16 registers.</summary>
internal struct Narrow6x2 : INarrowShape
{
    public static int Rows => 6;
    public static int Vectors => 2;
}

/// <summary>4 rows of three vectors: 12 accumulators, three B vectors and a broadcast in 16 registers.</summary>
internal struct Narrow4x3 : INarrowShape
{
    public static int Rows => 4;
    public static int Vectors => 3;
}

/// <summary>
/// 3 rows of three vectors: 9 accumulators, three B vectors, a broadcast and the product of a
/// multiply and an add where there is no FMA (x64 128-bit: <see cref="Narrow4x3"/> needs 17 registers there).
/// </summary>
internal struct Narrow3x3 : INarrowShape
{
    public static int Rows => 3;
    public static int Vectors => 3;
}

/// <summary>4 rows of one vector: the rows a 12-row block leaves.</summary>
internal struct Narrow4x1 : INarrowShape
{
    public static int Rows => 4;
    public static int Vectors => 1;
}

/// <summary>One row of one vector: the last rows.</summary>
internal struct Narrow1x1 : INarrowShape
{
    public static int Rows => 1;
    public static int Vectors => 1;
}

/// <summary>One row of two vectors: the last rows.</summary>
internal struct Narrow1x2 : INarrowShape
{
    public static int Rows => 1;
    public static int Vectors => 2;
}

/// <summary>One row of three vectors: the last rows.</summary>
internal struct Narrow1x3 : INarrowShape
{
    public static int Rows => 1;
    public static int Vectors => 3;
}

/// <summary>
/// op(B) as a narrow kernel reads it, K x V·W: its first <see cref="HeadRows"/> rows at
/// <see cref="Head"/>, <see cref="HeadStride"/> elements apart, the rest at <see cref="Tail"/>,
/// <see cref="Width"/> apart. B stored as op(B): read where it lies, each row's vectors running past
/// N into the next row (those lanes are computed and never written), and only the last rows, whose
/// vectors would run past B's end, copied into a padded tail. Bᵀ stored: packed, all of K at the
/// head, one panel zero past N.
/// </summary>
internal unsafe struct NarrowPanel<T>
    where T : unmanaged
{
    public T* Head;
    public long HeadStride;
    public int HeadRows;
    public T* Tail;
    public int Width;
}

/// <summary>
/// GEMM for narrow outputs, N ≤ V·W (one to three vectors of W lanes), as the output layer's
/// products are (N = 10 classes): a few vectors hold a whole row of C, so the blocked kernel's
/// 2W-wide tiles would waste most of their lanes and its packing of A would cost as much as the
/// arithmetic. Here op(B) is read as a K x V·W panel (<see cref="NarrowPanel{T}"/>) and a block of
/// rows of C accumulates in registers (<see cref="INarrowShape"/>: 12 rows of one vector, 6 of two or
/// 4 of three, twelve accumulators each; 3 of three without FMA), broadcasting op(A)'s values straight from A as stored: no
/// packing of A at all. Every element is one chain of multiply-adds over all of K, whatever the
/// shape, so a row has the same bits alone, in a block of 12, or in a block of 4.
/// </summary>
internal static unsafe class GemmNarrowKernel
{
    /// <summary>
    /// Computes the rows [row0, row0 + rows) of C in blocks of <typeparamref name="TShape"/>, then the
    /// rows left over (in blocks of 4 and 1 for one vector, of 1 otherwise). <paramref name="b"/> is
    /// op(B), K x V·W; <paramref name="tile"/> holds V·W elements.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T, TVec, TOps, TShape>(in GemmArgs<T> args, in NarrowPanel<T> b, T* tile, int row0, int rows)
        where T : unmanaged, System.Numerics.INumber<T>
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
        where TShape : struct, INarrowShape
    {
        int i = Block<T, TVec, TOps, TShape>(args, b, tile, row0, row0 + rows);
        if (TShape.Vectors == 1)
        {
            // Four rows at a time, then one: a single accumulator would wait on its own FMA latency every step.
            i = Block<T, TVec, TOps, Narrow4x1>(args, b, tile, i, row0 + rows);
            Block<T, TVec, TOps, Narrow1x1>(args, b, tile, i, row0 + rows);
        }
        else if (TShape.Vectors == 2)
        {
            Block<T, TVec, TOps, Narrow1x2>(args, b, tile, i, row0 + rows);
        }
        else
        {
            Block<T, TVec, TOps, Narrow1x3>(args, b, tile, i, row0 + rows);
        }
    }

    /// <summary>
    /// Rows [i, end) in whole blocks of TShape.Rows; returns the first row left. One body for every
    /// shape: rows and vectors are constants in each instantiation, so the JIT drops the
    /// accumulators a shape does not have (as in <see cref="GemmMicroKernel"/>).
    /// </summary>
    /// <remarks>
    /// Compiled fully optimized at its first call. The JIT never inlines it (it has more locals than
    /// an inlinee may), so under tiered compilation it ran as unoptimized code, every load and
    /// multiply-add a call, until promoted: a one-row prediction's output layer took twice its warm
    /// time for its first few hundred calls, and softmax regression's first epoch a third longer.
    /// The warm speed is the same (measured in issue 26).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Block<T, TVec, TOps, TShape>(in GemmArgs<T> args, in NarrowPanel<T> panel, T* tile, int i, int end)
        where T : unmanaged, System.Numerics.INumber<T>
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
        where TShape : struct, INarrowShape
    {
        int k = args.K, w = TOps.Count, v = TShape.Vectors, r = TShape.Rows;
        // op(A)[i, p] is A[i·lda + p], or A[p·lda + i] when transposed: step along p by these.
        long rowStride = args.TransA ? 1 : args.Lda;
        long depthStride = args.TransA ? args.Lda : 1;
        for (; i + r <= end; i += r)
        {
            T* a = args.A + i * rowStride;
            // Row r's vector j in crj; rows 0–3 have up to three vectors, rows 4–5 two, rows 6–11 one.
            TVec c00 = TOps.Zero, c01 = TOps.Zero, c02 = TOps.Zero;
            TVec c10 = TOps.Zero, c11 = TOps.Zero, c12 = TOps.Zero;
            TVec c20 = TOps.Zero, c21 = TOps.Zero, c22 = TOps.Zero;
            TVec c30 = TOps.Zero, c31 = TOps.Zero, c32 = TOps.Zero;
            TVec c40 = TOps.Zero, c41 = TOps.Zero;
            TVec c50 = TOps.Zero, c51 = TOps.Zero;
            TVec c60 = TOps.Zero, c70 = TOps.Zero, c80 = TOps.Zero, c90 = TOps.Zero, c100 = TOps.Zero, c110 = TOps.Zero;
            // Two passes over p, the head and then the tail of op(B): one chain per element either way.
            T* b = panel.Head;
            long stride = panel.HeadStride;
            int p = 0;
            for (int pass = 0; pass < 2; pass++)
            {
            int passEnd = pass == 0 ? panel.HeadRows : k;
            if (pass == 1)
            {
                b = panel.Tail;
                stride = panel.Width;
            }
            for (; p < passEnd; p++)
            {
                TVec b0 = TOps.Load(b);
                TVec b1 = v > 1 ? TOps.Load(b + w) : default;
                TVec b2 = v > 2 ? TOps.Load(b + 2 * w) : default;
                TVec ai;
                ai = TOps.Broadcast(a);
                c00 = TOps.MultiplyAdd(ai, b0, c00);
                if (v > 1) c01 = TOps.MultiplyAdd(ai, b1, c01);
                if (v > 2) c02 = TOps.MultiplyAdd(ai, b2, c02);
                if (r > 1)
                {
                    ai = TOps.Broadcast(a + rowStride);
                    c10 = TOps.MultiplyAdd(ai, b0, c10);
                    if (v > 1) c11 = TOps.MultiplyAdd(ai, b1, c11);
                    if (v > 2) c12 = TOps.MultiplyAdd(ai, b2, c12);
                    ai = TOps.Broadcast(a + 2 * rowStride);
                    c20 = TOps.MultiplyAdd(ai, b0, c20);
                    if (v > 1) c21 = TOps.MultiplyAdd(ai, b1, c21);
                    if (v > 2) c22 = TOps.MultiplyAdd(ai, b2, c22);
                }
                if (r > 3)
                {
                    ai = TOps.Broadcast(a + 3 * rowStride);
                    c30 = TOps.MultiplyAdd(ai, b0, c30);
                    if (v > 1) c31 = TOps.MultiplyAdd(ai, b1, c31);
                    if (v > 2) c32 = TOps.MultiplyAdd(ai, b2, c32);
                }
                if (r > 4)
                {
                    ai = TOps.Broadcast(a + 4 * rowStride);
                    c40 = TOps.MultiplyAdd(ai, b0, c40);
                    if (v > 1) c41 = TOps.MultiplyAdd(ai, b1, c41);
                    ai = TOps.Broadcast(a + 5 * rowStride);
                    c50 = TOps.MultiplyAdd(ai, b0, c50);
                    if (v > 1) c51 = TOps.MultiplyAdd(ai, b1, c51);
                }
                if (r > 6)
                {
                    c60 = TOps.MultiplyAdd(TOps.Broadcast(a + 6 * rowStride), b0, c60);
                    c70 = TOps.MultiplyAdd(TOps.Broadcast(a + 7 * rowStride), b0, c70);
                    c80 = TOps.MultiplyAdd(TOps.Broadcast(a + 8 * rowStride), b0, c80);
                    c90 = TOps.MultiplyAdd(TOps.Broadcast(a + 9 * rowStride), b0, c90);
                    c100 = TOps.MultiplyAdd(TOps.Broadcast(a + 10 * rowStride), b0, c100);
                    c110 = TOps.MultiplyAdd(TOps.Broadcast(a + 11 * rowStride), b0, c110);
                }
                a += depthStride;
                b += stride;
            }
            }
            WriteRow<T, TVec, TOps, TShape>(args, tile, i, c00, c01, c02);
            if (r > 1)
            {
                WriteRow<T, TVec, TOps, TShape>(args, tile, i + 1, c10, c11, c12);
                WriteRow<T, TVec, TOps, TShape>(args, tile, i + 2, c20, c21, c22);
            }
            if (r > 3)
                WriteRow<T, TVec, TOps, TShape>(args, tile, i + 3, c30, c31, c32);
            if (r > 4)
            {
                WriteRow<T, TVec, TOps, TShape>(args, tile, i + 4, c40, c41, c02);
                WriteRow<T, TVec, TOps, TShape>(args, tile, i + 5, c50, c51, c02);
            }
            if (r > 6)
            {
                WriteRow<T, TVec, TOps, TShape>(args, tile, i + 6, c60, c01, c02);
                WriteRow<T, TVec, TOps, TShape>(args, tile, i + 7, c70, c01, c02);
                WriteRow<T, TVec, TOps, TShape>(args, tile, i + 8, c80, c01, c02);
                WriteRow<T, TVec, TOps, TShape>(args, tile, i + 9, c90, c01, c02);
                WriteRow<T, TVec, TOps, TShape>(args, tile, i + 10, c100, c01, c02);
                WriteRow<T, TVec, TOps, TShape>(args, tile, i + 11, c110, c01, c02);
            }
        }
        return i;
    }

    /// <summary>C[row, 0..N) (+)= the first N lanes of the row's vectors (C's row is shorter than TShape.Vectors vectors).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void WriteRow<T, TVec, TOps, TShape>(in GemmArgs<T> args, T* tile, int row, TVec v0, TVec v1, TVec v2)
        where T : unmanaged, System.Numerics.INumber<T>
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
        where TShape : struct, INarrowShape
    {
        int w = TOps.Count;
        TOps.Store(v0, tile);
        if (TShape.Vectors > 1)
            TOps.Store(v1, tile + w);
        if (TShape.Vectors > 2)
            TOps.Store(v2, tile + 2 * w);
        T* c = args.C + (long)row * args.Ldc;
        if (args.Accumulate)
            for (int j = 0; j < args.N; j++)
                c[j] += tile[j];
        else
            for (int j = 0; j < args.N; j++)
                c[j] = tile[j];
    }
}
