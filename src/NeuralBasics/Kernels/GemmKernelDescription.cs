using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NeuralBasics.Kernels;

/// <summary>Which micro-kernel a GEMM runs; the fastest the processor supports is the default (<see cref="GemmKernelDescription{T}.Best"/>).</summary>
internal enum GemmKernel
{
    /// <summary>Plain scalar loops: for element types without SIMD support, or no SIMD at all.</summary>
    Scalar,
    /// <summary>6 x 2 vectors of 128 bits: x64 with SSE only (16 registers).</summary>
    Vector128x6,
    /// <summary>12 x 2 vectors of 128 bits: Arm64 AdvSIMD (32 registers).</summary>
    Vector128x12,
    /// <summary>6 x 2 vectors of 256 bits: x64 with AVX2 (16 registers).</summary>
    Vector256x6,
    /// <summary>12 x 2 vectors of 512 bits: x64 with AVX-512 (32 registers).</summary>
    Vector512x12,
}

/// <summary>Where a micro-kernel reads A: a packed panel, or A itself (see <see cref="IPanelLayout"/>).</summary>
internal enum PanelLayoutKind
{
    Packed,
    RowMajor,
    Transposed,
    Gathered,
}

/// <summary>
/// Cache blocking of one kernel on one machine: the register tile (MR x NR), the K slice (KC), the
/// rows of A (MC) and the columns of B (NC) packed at a time.
/// </summary>
internal readonly record struct Blocking(int MR, int NR, int KC, int MC, int NC);

/// <summary>
/// One GEMM micro-kernel and everything the driver needs to know of it, resolved once per element
/// type and kernel, as BLIS keeps one context per architecture: the vector width, the register tile
/// and the short tiles it has, the K slice, whether it may read A in place, and its entry points
/// (the tile kernels for each A layout, the one-row kernel and the narrow kernel). The driver reads
/// these and never asks which kernel it runs; a new tile shape is one entry in <see cref="Create"/>
/// and its rows in the GEMM tests.
/// </summary>
/// <remarks>
/// KC is the one block size that changes results (the K slices are summed in turn), so it is fixed
/// per kernel, never read from the machine: every processor that runs a kernel gets the same bits.
/// MC and NC follow the caches (<see cref="BlockingFor"/>).
/// </remarks>
internal sealed unsafe class GemmKernelDescription<T>
    where T : unmanaged, INumber<T>
{
    private static readonly GemmKernelDescription<T>[] s_all = Enum.GetValues<GemmKernel>().Select(Create).ToArray();

    /// <summary>The fastest kernel this processor runs for <typeparamref name="T"/>.</summary>
    public static GemmKernelDescription<T> Best { get; } = ChooseBest();

    /// <summary>The description of <paramref name="kernel"/> (whether or not this processor runs it: see <see cref="IsSupported"/>).</summary>
    public static GemmKernelDescription<T> For(GemmKernel kernel) => s_all[(int)kernel];

    /// <summary>The tile kernels, by layout (<see cref="PanelLayoutKind"/>) then shape (whole, 8 of 12, 4 of 12).</summary>
    private readonly delegate*<int, T*, nint, T*, T*, int, bool, void>[] _tiles;

    /// <summary>The narrow kernels by vector count (1, 2, 3: index 0, 1, 2).</summary>
    private readonly delegate*<in GemmArgs<T>, in NarrowPanel<T>, T*, int, int, void>[] _narrow;

    private GemmKernelDescription(GemmKernel kernel, string name, bool isSupported, int vectorBits, int lanes, int mr, int kc,
        bool shortTiles, bool wideRow, delegate*<int, T*, nint, T*, T*, int, bool, void>[] tiles,
        delegate*<in GemmArgs<T>, int, bool, void> row, delegate*<in GemmArgs<T>, in NarrowPanel<T>, T*, int, int, void>[] narrow)
    {
        Kernel = kernel;
        Name = name;
        IsSupported = isSupported;
        VectorBits = vectorBits;
        Lanes = lanes;
        MR = mr;
        NR = 2 * lanes;
        KC = kc;
        HasShortTiles = shortTiles;
        WideRow = wideRow;
        _tiles = tiles;
        Row = row;
        _narrow = narrow;
        Blocking = BlockingFor(ProcessorInfo.Caches);
    }

    public GemmKernel Kernel { get; }

    /// <summary>"AVX-512, 12 x 2 vectors" and the like, for messages and benchmark headers.</summary>
    public string Name { get; }

    /// <summary>True when this processor runs the kernel for <typeparamref name="T"/>.</summary>
    public bool IsSupported { get; }

    /// <summary>The width of its vectors in bits; 0 for the scalar kernel.</summary>
    public int VectorBits { get; }

    /// <summary>W: elements of <typeparamref name="T"/> per vector (2 for the scalar kernel's 4 x 4 tile).</summary>
    public int Lanes { get; }

    /// <summary>MR: rows of the register tile.</summary>
    public int MR { get; }

    /// <summary>NR = 2W: columns of the register tile.</summary>
    public int NR { get; }

    /// <summary>The K slice: fixed per kernel (see the remarks).</summary>
    public int KC { get; }

    /// <summary>True for the 12-row kernels, which compute a last tile of 1–4 or 5–8 rows with a 4- or 8-row variant.</summary>
    public bool HasShortTiles { get; }

    /// <summary>False for the scalar kernel, whose tile reads only packed panels.</summary>
    public bool CanReadAInPlace => VectorBits > 0;

    /// <summary>
    /// The widest N the narrow kernel takes (0 for the scalar kernel, which has none): one vector
    /// with 32 registers, whose 16 floats hold the usual class counts (AVX-512); three with 16
    /// registers (AVX2: 24 floats; x64 128-bit: 12), each row then two or three vectors
    /// (<see cref="INarrowShape"/>). Ten classes on AVX2 went through the blocked kernel before: its
    /// 16-wide tiles held 10 useful columns and its edge tiles took a copy.
    /// </summary>
    public int NarrowWidth => VectorBits > 0 ? Lanes * (WideRow ? 1 : _narrow.Length) : 0;

    /// <summary>
    /// The widest column block the narrow kernel takes of a deep product of few rows (see
    /// <see cref="GemmDriver{T}.IsDeepNarrow"/>): three vectors on every SIMD kernel. With 32
    /// registers the blocked kernel wins at 17–48 columns in general, but not when K is long and M
    /// short: it packs all of op(B) for a few rows of arithmetic.
    /// </summary>
    public int DeepNarrowWidth => VectorBits > 0 ? Lanes * _narrow.Length : 0;

    /// <summary>32 vector registers: the one-row kernel holds 16 vectors of C.</summary>
    public bool WideRow { get; }

    /// <summary>C[0, ..] of a one-row product (<see cref="GemmRowKernel"/>); null for the scalar kernel.</summary>
    public delegate*<in GemmArgs<T>, int, bool, void> Row { get; }

    /// <summary>The narrow kernel for rows of <paramref name="vectors"/> vectors, 1 to <see cref="DeepNarrowWidth"/> / <see cref="Lanes"/> (<see cref="GemmNarrowKernel"/>).</summary>
    public delegate*<in GemmArgs<T>, in NarrowPanel<T>, T*, int, int, void> Narrow(int vectors) => _narrow[vectors - 1];

    /// <summary>The blocking on this machine (its caches as <see cref="ProcessorInfo"/> read them).</summary>
    public Blocking Blocking { get; }

    /// <summary>
    /// The blocking for a machine with <paramref name="caches"/>. MC: the packed A block (MC x KC),
    /// re-read for every NR-wide panel of B, is a quarter of L2. NC: the packed B block (KC x NC),
    /// re-read for every A block, is an eighth of L3 (four L2s when there is none). For float with
    /// AVX-512: MC 252 with 1 MiB of L2 (AMD Zen 4 and Zen 5), 504 with 2 MiB (Intel Xeon Sapphire Rapids).
    /// </summary>
    public Blocking BlockingFor(CacheSizes caches)
    {
        int mc = Math.Max(MR, caches.L2 / 4 / (KC * sizeof(T)) / MR * MR);
        long l3 = caches.L3 > 0 ? caches.L3 : 4L * caches.L2;
        int nc = (int)Math.Clamp(l3 / 8 / (KC * sizeof(T)) / NR * NR, NR, 1 << 16);
        return new Blocking(MR, NR, KC, mc, nc);
    }

    /// <summary>
    /// The rows a tile of <paramref name="rows"/> ≤ MR rows is computed with: 4, 8 or 12 (whichever
    /// is the first to hold them) for the kernels with short tiles; MR otherwise.
    /// </summary>
    public int ShortRows(int rows) => !HasShortTiles ? MR : rows <= 4 ? 4 : rows <= 8 ? 8 : MR;

    /// <summary>
    /// The tile kernel for <paramref name="rows"/> rows (MR, or a short tile's 4 or 8: see
    /// <see cref="ShortRows"/>) reading A as <paramref name="layout"/>:
    /// <c>(kc, a, lda, b, c, ldc, add)</c>, every element summed as by the whole tile.
    /// </summary>
    public delegate*<int, T*, nint, T*, T*, int, bool, void> Tile(int rows, PanelLayoutKind layout)
        => _tiles[(int)layout * 3 + (rows == MR ? 0 : rows == 8 ? 1 : 2)];

    private static GemmKernelDescription<T> ChooseBest()
    {
        if (ProcessorInfo.VectorWarning is { } warning)
            System.Diagnostics.Trace.TraceWarning(warning);
        foreach (var kernel in (ReadOnlySpan<GemmKernel>)[GemmKernel.Vector512x12, GemmKernel.Vector256x6,
                     RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? GemmKernel.Vector128x12 : GemmKernel.Vector128x6])
            if (For(kernel).IsSupported)
                return For(kernel);
        return For(GemmKernel.Scalar);
    }

    /// <summary>
    /// The kernels, one entry each. KC, the one block size that changes the bits, is fixed per
    /// kernel so that every processor running it gets the same results. It sizes the packed B
    /// micro-panel (KC x NR), which stays in the level-1 data cache while the A micro-panels
    /// (MR x KC) stream past it; 32 KiB is the smallest x86 L1 (AMD Zen 2 to Zen 4; 48 KiB on Zen 5
    /// and recent Intel cores). AVX-512 (12 x 32 floats): KC 256, a 32 KiB B panel, which beat two
    /// thirds of it (168) by 11% at 1024³ on an AMD EPYC Zen 4 core. AVX2 (6 x 16): KC 256, a
    /// 16 KiB B panel beside a 6 KiB A panel, as BLIS configures AMD Zen 3 (6x16, KC 256); with
    /// KC 512 the B panel alone was all of a Zen 3 core's L1 (issue 24), and MC fell to 60 rows of
    /// its 512 KiB L2. 128-bit (6 or 12 x 8): KC 512, a 16 KiB B panel; the Arm64 kernel's 12-row A
    /// panel is then 24 KiB, within the 64 KiB and larger L1 of Arm64 server and Apple cores. On a
    /// Zen 5 core with AVX-512 or AVX2 disabled, 256 against 512 (AVX2) and 512 against 1,024
    /// (128-bit) read the same within noise at 512³ and the training shapes. Scalar: KC 1,024.
    /// </summary>
    private static GemmKernelDescription<T> Create(GemmKernel kernel)
    {
        bool simd = typeof(T) == typeof(float) || typeof(T) == typeof(double);
        return kernel switch
        {
            GemmKernel.Vector512x12 => Simd<Vector512<T>, Vector512Ops<T>, Tile12>(kernel, "AVX-512, 12 x 2 vectors",
                simd && Vector512.IsHardwareAccelerated, 512, kc: 256),
            GemmKernel.Vector256x6 => Simd<Vector256<T>, Vector256Ops<T>, Tile6>(kernel, "AVX2, 6 x 2 vectors",
                simd && Vector256.IsHardwareAccelerated, 256, kc: 256),
            GemmKernel.Vector128x12 => Simd<Vector128<T>, Vector128Ops<T>, Tile12>(kernel, "128-bit, 12 x 2 vectors",
                simd && Vector128.IsHardwareAccelerated, 128, kc: 512),
            GemmKernel.Vector128x6 => Simd<Vector128<T>, Vector128Ops<T>, Tile6>(kernel, "128-bit, 6 x 2 vectors",
                simd && Vector128.IsHardwareAccelerated, 128, kc: 512),
            _ => new GemmKernelDescription<T>(GemmKernel.Scalar, "scalar, 4 x 4", true, 0, 2, 4, kc: 1024, false, false,
                ScalarTiles(), null, []),
        };
    }

    private static GemmKernelDescription<T> Simd<TVec, TOps, TTile>(GemmKernel kernel, string name, bool supported, int bits, int kc)
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
        where TTile : struct, IKernelTile
    {
        // The 12-row tiles are the 32-register kernels (AVX-512, Arm64): they have the 8- and 4-row
        // short tiles, a 16-vector one-row block and one vector a narrow row (three for deep products
        // of few rows); the 6-row ones have 16 registers and three vectors a narrow row.
        bool registers32 = TTile.Rows == 12;
        // Whole tiles, then the 8- and 4-row variants (the whole tile again for a kernel without them).
        var tiles = new delegate*<int, T*, nint, T*, T*, int, bool, void>[3 * LayoutCount];
        Layouts<TVec, TOps, TTile>(tiles, 0);
        if (registers32)
        {
            Layouts<TVec, TOps, Tile8Of12>(tiles, 1);
            Layouts<TVec, TOps, Tile4Of12>(tiles, 2);
        }
        else
        {
            Layouts<TVec, TOps, TTile>(tiles, 1);
            Layouts<TVec, TOps, TTile>(tiles, 2);
        }
        var narrow = new delegate*<in GemmArgs<T>, in NarrowPanel<T>, T*, int, int, void>[]
            {
                &GemmNarrowKernel.Run<T, TVec, TOps, Narrow12x1>,
                &GemmNarrowKernel.Run<T, TVec, TOps, Narrow6x2>,
                // Without FMA a multiply-add needs a register for the product: 4 x 3 would spill.
                HardwareFma.IsSupported ? &GemmNarrowKernel.Run<T, TVec, TOps, Narrow4x3> : &GemmNarrowKernel.Run<T, TVec, TOps, Narrow3x3>,
            };
        return new GemmKernelDescription<T>(kernel, name, supported, bits, bits / 8 / sizeof(T), TTile.Rows, kc, registers32, registers32, tiles,
            &GemmRowKernel.Run<T, TVec, TOps>, narrow);
    }

    /// <summary>The tile kernels of one shape for each layout: <paramref name="tiles"/>[layout · 3 + <paramref name="shape"/>].</summary>
    private static void Layouts<TVec, TOps, TTile>(delegate*<int, T*, nint, T*, T*, int, bool, void>[] tiles, int shape)
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
        where TTile : struct, IKernelTile
    {
        tiles[(int)PanelLayoutKind.Packed * 3 + shape] = &GemmMicroKernel.Kernel<T, TVec, TOps, TTile, PackedPanel>;
        tiles[(int)PanelLayoutKind.RowMajor * 3 + shape] = &GemmMicroKernel.Kernel<T, TVec, TOps, TTile, RowMajorPanel>;
        tiles[(int)PanelLayoutKind.Transposed * 3 + shape] = &GemmMicroKernel.Kernel<T, TVec, TOps, TTile, TransposedPanel>;
        tiles[(int)PanelLayoutKind.Gathered * 3 + shape] = &GemmMicroKernel.Kernel<T, TVec, TOps, TTile, GatheredPanel>;
    }

    /// <summary>The number of A layouts (<see cref="PanelLayoutKind"/>).</summary>
    private const int LayoutCount = (int)PanelLayoutKind.Gathered + 1;

    /// <summary>The scalar tile for every layout and shape: it reads only packed panels.</summary>
    private static delegate*<int, T*, nint, T*, T*, int, bool, void>[] ScalarTiles()
    {
        var tiles = new delegate*<int, T*, nint, T*, T*, int, bool, void>[3 * LayoutCount];
        for (int i = 0; i < tiles.Length; i++)
            tiles[i] = &ScalarTile;
        return tiles;
    }

    /// <summary>The 4 x 4 tile for element types and processors without SIMD: always a packed panel (<see cref="CanReadAInPlace"/> is false).</summary>
    private static void ScalarTile(int kc, T* a, nint lda, T* b, T* c, int ldc, bool add)
    {
        const int mr = 4, nr = 4;
        for (int r = 0; r < mr; r++)
        {
            for (int j = 0; j < nr; j++)
            {
                T sum = T.Zero;
                for (int p = 0; p < kc; p++)
                    sum += a[p * mr + r] * b[p * nr + j];
                T* dst = c + (long)r * ldc + j;
                *dst = add ? *dst + sum : sum;
            }
        }
    }
}
