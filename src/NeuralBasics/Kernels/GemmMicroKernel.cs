using System.Runtime.CompilerServices;

namespace NeuralBasics.Kernels;

/// <summary>The shape of a micro-kernel's tile: the rows it computes and the rows of the A panel it reads.</summary>
internal interface IKernelTile
{
    /// <summary>MR: rows of C computed (4, 6, 8 or 12).</summary>
    static abstract int Rows { get; }

    /// <summary>Rows of the packed A panel per k step (12 or 6); more than <see cref="Rows"/> for the short tiles.</summary>
    static abstract int PanelRows { get; }
}

/// <summary>12 x 2 vectors: 24 accumulators, for targets with 32 vector registers (x64 with AVX-512, Arm64).</summary>
internal struct Tile12 : IKernelTile
{
    public static int Rows => 12;
    public static int PanelRows => 12;
}

/// <summary>The first 8 rows of a 12-row panel: the last tile of a product whose M leaves 5–8 rows.</summary>
internal struct Tile8Of12 : IKernelTile
{
    public static int Rows => 8;
    public static int PanelRows => 12;
}

/// <summary>The first 4 rows of a 12-row panel: the last tile of a product whose M leaves 1–4 rows.</summary>
internal struct Tile4Of12 : IKernelTile
{
    public static int Rows => 4;
    public static int PanelRows => 12;
}

/// <summary>6 x 2 vectors: 12 accumulators, for x64 with AVX2 or SSE (16 vector registers).</summary>
internal struct Tile6 : IKernelTile
{
    public static int Rows => 6;
    public static int PanelRows => 6;
}

/// <summary>Where a micro-kernel reads the rows of A: a packed panel, or A itself.</summary>
internal interface IPanelLayout
{
    /// <summary>Row-major A read in place: row r of step p at <c>a[r·lda + p]</c>.</summary>
    static abstract bool RowMajor { get; }

    /// <summary>A stored transposed (Aᵀ row-major) read in place: row r of step p at <c>a[p·lda + r]</c>.</summary>
    static abstract bool Transposed { get; }

    /// <summary>
    /// Aᵀ gathered in place: row r of step p at <c>a[offsets[p] + r]</c>, the steps' offsets (int,
    /// in elements) at the address <c>lda</c> holds.
    /// </summary>
    static abstract bool Gathered { get; }
}

/// <summary>A packed A panel: row r of step p at <c>a[p·PanelRows + r]</c>.</summary>
internal struct PackedPanel : IPanelLayout
{
    public static bool RowMajor => false;
    public static bool Transposed => false;
    public static bool Gathered => false;
}

/// <summary>Row-major A read in place: each row's k steps are consecutive, rows <c>lda</c> apart.</summary>
internal struct RowMajorPanel : IPanelLayout
{
    public static bool RowMajor => true;
    public static bool Transposed => false;
    public static bool Gathered => false;
}

/// <summary>Aᵀ stored, read in place: each step's rows are consecutive, as in a packed panel, steps <c>lda</c> apart.</summary>
internal struct TransposedPanel : IPanelLayout
{
    public static bool RowMajor => false;
    public static bool Transposed => true;
    public static bool Gathered => false;
}

/// <summary>
/// Aᵀ gathered in place: each step's rows are consecutive, as in a packed panel, each step where
/// its offset says (a convolution's weight gradient X̂ᵀ·dY read from the padded images: a step is
/// an output pixel, its rows the taps of one kernel row).
/// </summary>
internal struct GatheredPanel : IPanelLayout
{
    public static bool RowMajor => false;
    public static bool Transposed => false;
    public static bool Gathered => true;
}

/// <summary>
/// The register-blocked GEMM micro-kernel over packed panels. A packed A micro-panel holds, for
/// each k, <see cref="IKernelTile.PanelRows"/> consecutive row values (or A is read in place:
/// <see cref="RowMajorPanel"/>, <see cref="TransposedPanel"/>); a packed B micro-panel holds,
/// for each k, NR = 2W consecutive column values. The kernel keeps the whole MR x NR tile of C in
/// named vector locals so the JIT can give each its own register: taking their address, indexing
/// them or spilling them into a stack buffer would make the JIT store them to memory every
/// iteration, which halves the speed.
/// </summary>
/// <remarks>
/// One body serves every tile shape: <c>TTile.Rows</c> is a constant in each instantiation, so the
/// JIT drops the rows a shape does not have, and their accumulators with them. Each element of C is
/// summed over k in the same order whatever the shape, so a short tile has the bits of the same
/// rows in a full one. <see cref="Tile12"/> needs 24 + 3 vector registers, <see cref="Tile6"/> 12 + 3.
/// The generated code is checked with <c>DOTNET_JitDisasm=Kernel</c>: the loop body must be loads,
/// broadcasts and FMAs only (the prefetches sit between its two passes), with no stack traffic.
/// </remarks>
internal static unsafe class GemmMicroKernel
{
    /// <summary>
    /// C[MR x 2W] (+)= A[MR x kc] · B[kc x 2W] over packed panels, W = TOps.Count, MR = TTile.Rows:
    /// 2·MR accumulators plus two B vectors and one broadcast. <paramref name="lda"/> is the row
    /// stride of A in elements when <typeparamref name="TLayout"/> reads it in place (unused for a
    /// packed panel; for <see cref="GatheredPanel"/>, the address of the steps' offsets); row-major
    /// A's rows are addressed from three bases, with no more registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel<T, TVec, TOps, TTile, TLayout>(int kc, T* a, nint lda, T* b, T* c, int ldc, bool add)
        where T : unmanaged
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
        where TTile : struct, IKernelTile
        where TLayout : struct, IPanelLayout
    {
        int w = TOps.Count;
        // Row-major A: rows 4q .. 4q + 3 at aq, aq + lda, aq + 2·lda, aq + lda3 (bytes), each an
        // x86 address mode of one base and one index; the packed layout needs only a.
        nint l = TLayout.RowMajor ? lda * sizeof(T) : 0, l3 = 3 * l;
        byte* a4 = TLayout.RowMajor ? (byte*)a + 4 * l : null;
        byte* a8 = TLayout.RowMajor ? (byte*)a + 8 * l : null;
        TVec c00 = TOps.Zero, c01 = TOps.Zero;
        TVec c10 = TOps.Zero, c11 = TOps.Zero;
        TVec c20 = TOps.Zero, c21 = TOps.Zero;
        TVec c30 = TOps.Zero, c31 = TOps.Zero;
        TVec c40 = TOps.Zero, c41 = TOps.Zero;
        TVec c50 = TOps.Zero, c51 = TOps.Zero;
        TVec c60 = TOps.Zero, c61 = TOps.Zero;
        TVec c70 = TOps.Zero, c71 = TOps.Zero;
        TVec c80 = TOps.Zero, c81 = TOps.Zero;
        TVec c90 = TOps.Zero, c91 = TOps.Zero;
        TVec c100 = TOps.Zero, c101 = TOps.Zero;
        TVec c110 = TOps.Zero, c111 = TOps.Zero;
        // Two passes over p: the second, the last PrefetchDepth steps, runs after the C tile has
        // been asked for (PrefetchTile), so its loads and stores below find it in L1.
        int p = 0;
        for (int pass = 0; pass < 2; pass++)
        {
            int end = pass == 0 ? Math.Max(0, kc - PrefetchDepth) : kc;
            for (; p < end; p++)
            {
                TVec b0 = TOps.Load(b);
                TVec b1 = TOps.Load(b + w);
                // Gathered: this step's rows at its offset; every other layout reads from a.
                T* at = TLayout.Gathered ? a + ((int*)lda)[p] : a;
                TVec ai;
                ai = TOps.Broadcast(Row<T, TLayout>(at, (byte*)a, 0)); c00 = TOps.MultiplyAdd(ai, b0, c00); c01 = TOps.MultiplyAdd(ai, b1, c01);
                ai = TOps.Broadcast(Row<T, TLayout>(at, (byte*)a + l, 1)); c10 = TOps.MultiplyAdd(ai, b0, c10); c11 = TOps.MultiplyAdd(ai, b1, c11);
                ai = TOps.Broadcast(Row<T, TLayout>(at, (byte*)a + 2 * l, 2)); c20 = TOps.MultiplyAdd(ai, b0, c20); c21 = TOps.MultiplyAdd(ai, b1, c21);
                ai = TOps.Broadcast(Row<T, TLayout>(at, (byte*)a + l3, 3)); c30 = TOps.MultiplyAdd(ai, b0, c30); c31 = TOps.MultiplyAdd(ai, b1, c31);
                if (TTile.Rows > 4)
                {
                    ai = TOps.Broadcast(Row<T, TLayout>(at, a4, 4)); c40 = TOps.MultiplyAdd(ai, b0, c40); c41 = TOps.MultiplyAdd(ai, b1, c41);
                    ai = TOps.Broadcast(Row<T, TLayout>(at, a4 + l, 5)); c50 = TOps.MultiplyAdd(ai, b0, c50); c51 = TOps.MultiplyAdd(ai, b1, c51);
                }
                if (TTile.Rows > 6)
                {
                    ai = TOps.Broadcast(Row<T, TLayout>(at, a4 + 2 * l, 6)); c60 = TOps.MultiplyAdd(ai, b0, c60); c61 = TOps.MultiplyAdd(ai, b1, c61);
                    ai = TOps.Broadcast(Row<T, TLayout>(at, a4 + l3, 7)); c70 = TOps.MultiplyAdd(ai, b0, c70); c71 = TOps.MultiplyAdd(ai, b1, c71);
                }
                if (TTile.Rows > 8)
                {
                    ai = TOps.Broadcast(Row<T, TLayout>(at, a8, 8)); c80 = TOps.MultiplyAdd(ai, b0, c80); c81 = TOps.MultiplyAdd(ai, b1, c81);
                    ai = TOps.Broadcast(Row<T, TLayout>(at, a8 + l, 9)); c90 = TOps.MultiplyAdd(ai, b0, c90); c91 = TOps.MultiplyAdd(ai, b1, c91);
                    ai = TOps.Broadcast(Row<T, TLayout>(at, a8 + 2 * l, 10)); c100 = TOps.MultiplyAdd(ai, b0, c100); c101 = TOps.MultiplyAdd(ai, b1, c101);
                    ai = TOps.Broadcast(Row<T, TLayout>(at, a8 + l3, 11)); c110 = TOps.MultiplyAdd(ai, b0, c110); c111 = TOps.MultiplyAdd(ai, b1, c111);
                }
                if (TLayout.RowMajor)
                {
                    a++;
                    a4 += sizeof(T);
                    a8 += sizeof(T);
                }
                else if (!TLayout.Gathered)
                {
                    a += TLayout.Transposed ? lda : TTile.PanelRows;
                }
                b += 2 * w;
            }
            if (pass == 0)
                PrefetchTile(c, (long)ldc * sizeof(T), TTile.Rows, 2 * w * sizeof(T));
        }
        if (add)
        {
            Accumulate<T, TVec, TOps>(c + 0 * ldc, w, c00, c01);
            Accumulate<T, TVec, TOps>(c + 1 * ldc, w, c10, c11);
            Accumulate<T, TVec, TOps>(c + 2 * ldc, w, c20, c21);
            Accumulate<T, TVec, TOps>(c + 3 * ldc, w, c30, c31);
            if (TTile.Rows > 4)
            {
                Accumulate<T, TVec, TOps>(c + 4 * ldc, w, c40, c41);
                Accumulate<T, TVec, TOps>(c + 5 * ldc, w, c50, c51);
            }
            if (TTile.Rows > 6)
            {
                Accumulate<T, TVec, TOps>(c + 6 * ldc, w, c60, c61);
                Accumulate<T, TVec, TOps>(c + 7 * ldc, w, c70, c71);
            }
            if (TTile.Rows > 8)
            {
                Accumulate<T, TVec, TOps>(c + 8 * ldc, w, c80, c81);
                Accumulate<T, TVec, TOps>(c + 9 * ldc, w, c90, c91);
                Accumulate<T, TVec, TOps>(c + 10 * ldc, w, c100, c101);
                Accumulate<T, TVec, TOps>(c + 11 * ldc, w, c110, c111);
            }
        }
        else
        {
            TOps.Store(c00, c + 0 * ldc); TOps.Store(c01, c + 0 * ldc + w);
            TOps.Store(c10, c + 1 * ldc); TOps.Store(c11, c + 1 * ldc + w);
            TOps.Store(c20, c + 2 * ldc); TOps.Store(c21, c + 2 * ldc + w);
            TOps.Store(c30, c + 3 * ldc); TOps.Store(c31, c + 3 * ldc + w);
            if (TTile.Rows > 4)
            {
                TOps.Store(c40, c + 4 * ldc); TOps.Store(c41, c + 4 * ldc + w);
                TOps.Store(c50, c + 5 * ldc); TOps.Store(c51, c + 5 * ldc + w);
            }
            if (TTile.Rows > 6)
            {
                TOps.Store(c60, c + 6 * ldc); TOps.Store(c61, c + 6 * ldc + w);
                TOps.Store(c70, c + 7 * ldc); TOps.Store(c71, c + 7 * ldc + w);
            }
            if (TTile.Rows > 8)
            {
                TOps.Store(c80, c + 8 * ldc); TOps.Store(c81, c + 8 * ldc + w);
                TOps.Store(c90, c + 9 * ldc); TOps.Store(c91, c + 9 * ldc + w);
                TOps.Store(c100, c + 10 * ldc); TOps.Store(c101, c + 10 * ldc + w);
                TOps.Store(c110, c + 11 * ldc); TOps.Store(c111, c + 11 * ldc + w);
            }
        }
    }

    /// <summary>
    /// How many of the last k steps run after <see cref="PrefetchTile"/>: with AVX-512 about 800
    /// cycles, time for the C tile to arrive from L2 or L3 before the kernel adds and stores it.
    /// </summary>
    private const int PrefetchDepth = 32;

    /// <summary>
    /// Asks for the C tile's cache lines (<paramref name="rows"/> rows of <paramref name="bytes"/>)
    /// to be brought into L1. The rows are a whole row of C apart, so they share a few L1 sets and
    /// are evicted by the streaming panels; loaded on demand, each row missed on its own. Measured on
    /// one AMD EPYC Zen 4 core (7 paired runs): 1024³ from 82.8% to 87.2% of the FMA peak, 512³
    /// (C in L2) unchanged within noise. A hint only: results are the same bits; no-op off x86.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchTile(void* c, long strideBytes, int rows, int bytes)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported)
            return;
        byte* row = (byte*)c;
        for (int r = 0; r < rows; r++, row += strideBytes)
            for (int o = 0; o < bytes; o += 64)
                System.Runtime.Intrinsics.X86.Sse.Prefetch0(row + o);
    }

    /// <summary>Row r of the current k step: <paramref name="rowMajor"/> (already addressed) for row-major A, a + r in a packed panel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T* Row<T, TLayout>(T* a, byte* rowMajor, int r)
        where T : unmanaged
        where TLayout : struct, IPanelLayout
        => TLayout.RowMajor ? (T*)rowMajor : a + r;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate<T, TVec, TOps>(T* row, int w, TVec v0, TVec v1)
        where T : unmanaged
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
    {
        TOps.Store(TOps.Add(TOps.Load(row), v0), row);
        TOps.Store(TOps.Add(TOps.Load(row + w), v1), row + w);
    }
}
