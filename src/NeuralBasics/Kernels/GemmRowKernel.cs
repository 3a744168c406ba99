using System.Runtime.CompilerServices;

namespace NeuralBasics.Kernels;

/// <summary>
/// GEMM for one row of C (M = 1, A and B as stored): predicting a single sample. The blocked
/// kernel would pack all of B (a whole weight matrix) for one row's arithmetic; here each row of
/// B is read once, straight from where it is, and multiplied into four vectors of C held in
/// registers. The additions happen in the blocked kernel's order — the same KC slices of K, each
/// a chain of fused multiply-adds from zero, added to C slice after slice — so one row computed
/// alone has the same bits as that row inside a batch.
/// </summary>
internal static unsafe class GemmRowKernel
{
    /// <summary>C[0, 0..N) (+)= A[0, 0..K) · B, with K cut into slices of <paramref name="kcStep"/>.</summary>
    /// <param name="args">The product.</param>
    /// <param name="kcStep">The K slice.</param>
    /// <param name="wide">32 vector registers: sixteen accumulators, so a row of 16W columns (256 floats with AVX-512) streams B row after row.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T, TVec, TOps>(in GemmArgs<T> args, int kcStep, bool wide)
        where T : unmanaged, System.Numerics.INumber<T>
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
    {
        int w = TOps.Count, n = args.N, k = args.K;
        long ldb = args.Ldb;
        T* c = args.C;
        T* lane = stackalloc T[w];
        for (int p0 = 0; p0 < k; p0 += kcStep)
        {
            int p1 = Math.Min(k, p0 + kcStep);
            bool add = args.Accumulate || p0 > 0;
            int j = 0;
            for (; wide && j + 16 * w <= n; j += 16 * w)
                Sixteen<T, TVec, TOps>(args, c + j, j, p0, p1, add);
            // Eight independent chains: enough to keep both FMA pipes busy through their latency.
            for (; j + 8 * w <= n; j += 8 * w)
                Columns<T, TVec, TOps, Vectors8>(args, c + j, j, p0, p1, add);
            for (; j + 4 * w <= n; j += 4 * w)
                Columns<T, TVec, TOps, Vectors4>(args, c + j, j, p0, p1, add);
            for (; j + w <= n; j += w)
                Columns<T, TVec, TOps, Vectors1>(args, c + j, j, p0, p1, add);
            // The last columns, fewer than a vector: the same lane arithmetic as the blocked kernel's
            // zero-padded edge tile (fused exactly where the vector kernels fuse), read off lane 0.
            for (; j < n; j++)
            {
                TVec sum = TOps.Zero;
                for (int p = p0; p < p1; p++)
                    sum = TOps.MultiplyAdd(TOps.Broadcast(args.A + p), TOps.Broadcast(args.B + p * ldb + j), sum);
                TOps.Store(sum, lane);
                c[j] = add ? c[j] + lane[0] : lane[0];
            }
        }
    }

    /// <summary>Sixteen vectors of C in registers: a call of its own, so their registers are not <see cref="Run"/>'s.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Sixteen<T, TVec, TOps>(in GemmArgs<T> args, T* c, int j, int p0, int p1, bool add)
        where T : unmanaged, System.Numerics.INumber<T>
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
        => Columns<T, TVec, TOps, Vectors16>(args, c, j, p0, p1, add);

    /// <summary>
    /// TCount.Vectors (1, 4, 8 or 16) vectors of C in registers over the slice [p0, p1): B's rows
    /// are read one after the other. One body for every width: the count is a constant in each
    /// instantiation, so the JIT drops the vectors a width does not have.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Columns<T, TVec, TOps, TCount>(in GemmArgs<T> args, T* c, int j, int p0, int p1, bool add)
        where T : unmanaged, System.Numerics.INumber<T>
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
        where TCount : struct, IVectorCount
    {
        int w = TOps.Count;
        long ldb = args.Ldb;
        TVec c0 = TOps.Zero, c1 = TOps.Zero, c2 = TOps.Zero, c3 = TOps.Zero, c4 = TOps.Zero, c5 = TOps.Zero, c6 = TOps.Zero, c7 = TOps.Zero;
        TVec c8 = TOps.Zero, c9 = TOps.Zero, c10 = TOps.Zero, c11 = TOps.Zero, c12 = TOps.Zero, c13 = TOps.Zero, c14 = TOps.Zero, c15 = TOps.Zero;
        T* b = args.B + p0 * ldb + j;
        for (int p = p0; p < p1; p++, b += ldb)
        {
            TVec a = TOps.Broadcast(args.A + p);
            c0 = TOps.MultiplyAdd(a, TOps.Load(b), c0);
            if (TCount.Vectors > 1)
            {
                c1 = TOps.MultiplyAdd(a, TOps.Load(b + w), c1);
                c2 = TOps.MultiplyAdd(a, TOps.Load(b + 2 * w), c2);
                c3 = TOps.MultiplyAdd(a, TOps.Load(b + 3 * w), c3);
            }
            if (TCount.Vectors > 4)
            {
                c4 = TOps.MultiplyAdd(a, TOps.Load(b + 4 * w), c4);
                c5 = TOps.MultiplyAdd(a, TOps.Load(b + 5 * w), c5);
                c6 = TOps.MultiplyAdd(a, TOps.Load(b + 6 * w), c6);
                c7 = TOps.MultiplyAdd(a, TOps.Load(b + 7 * w), c7);
            }
            if (TCount.Vectors > 8)
            {
                c8 = TOps.MultiplyAdd(a, TOps.Load(b + 8 * w), c8);
                c9 = TOps.MultiplyAdd(a, TOps.Load(b + 9 * w), c9);
                c10 = TOps.MultiplyAdd(a, TOps.Load(b + 10 * w), c10);
                c11 = TOps.MultiplyAdd(a, TOps.Load(b + 11 * w), c11);
                c12 = TOps.MultiplyAdd(a, TOps.Load(b + 12 * w), c12);
                c13 = TOps.MultiplyAdd(a, TOps.Load(b + 13 * w), c13);
                c14 = TOps.MultiplyAdd(a, TOps.Load(b + 14 * w), c14);
                c15 = TOps.MultiplyAdd(a, TOps.Load(b + 15 * w), c15);
            }
        }
        Store<T, TVec, TOps>(c, c0, add);
        if (TCount.Vectors > 1)
        {
            Store<T, TVec, TOps>(c + w, c1, add);
            Store<T, TVec, TOps>(c + 2 * w, c2, add);
            Store<T, TVec, TOps>(c + 3 * w, c3, add);
        }
        if (TCount.Vectors > 4)
        {
            Store<T, TVec, TOps>(c + 4 * w, c4, add);
            Store<T, TVec, TOps>(c + 5 * w, c5, add);
            Store<T, TVec, TOps>(c + 6 * w, c6, add);
            Store<T, TVec, TOps>(c + 7 * w, c7, add);
        }
        if (TCount.Vectors > 8)
        {
            Store<T, TVec, TOps>(c + 8 * w, c8, add);
            Store<T, TVec, TOps>(c + 9 * w, c9, add);
            Store<T, TVec, TOps>(c + 10 * w, c10, add);
            Store<T, TVec, TOps>(c + 11 * w, c11, add);
            Store<T, TVec, TOps>(c + 12 * w, c12, add);
            Store<T, TVec, TOps>(c + 13 * w, c13, add);
            Store<T, TVec, TOps>(c + 14 * w, c14, add);
            Store<T, TVec, TOps>(c + 15 * w, c15, add);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Store<T, TVec, TOps>(T* destination, TVec value, bool add)
        where T : unmanaged
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
        => TOps.Store(add ? TOps.Add(TOps.Load(destination), value) : value, destination);
}

/// <summary>How many vectors of C a block of <see cref="GemmRowKernel"/> keeps in registers.</summary>
internal interface IVectorCount
{
    static abstract int Vectors { get; }
}

internal struct Vectors16 : IVectorCount
{
    public static int Vectors => 16;
}

internal struct Vectors8 : IVectorCount
{
    public static int Vectors => 8;
}

internal struct Vectors4 : IVectorCount
{
    public static int Vectors => 4;
}

internal struct Vectors1 : IVectorCount
{
    public static int Vectors => 1;
}
