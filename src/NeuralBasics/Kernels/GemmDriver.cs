using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NeuralBasics.Kernels;

/// <summary>Which micro-kernel a GEMM runs; the fastest the processor supports is the default.</summary>
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

/// <summary>The activation a product can apply while it writes C (<see cref="GemmArgs{T}.Activation"/>).</summary>
internal enum FusedActivation : byte
{
    /// <summary>None: C only (plus the bias, when given).</summary>
    None,
    /// <summary><c>max(0, z)</c>.</summary>
    Relu,
    /// <summary>
    /// ReLU's backward pass on the product: <c>Activated = Mask &gt; 0 ? C : 0</c> (subnormals flushed,
    /// as <see cref="Activations.Relu"/>'s backward does), with <see cref="GemmArgs{T}.Mask"/> the
    /// ReLU's input. No bias.
    /// </summary>
    ReluGradient,
}

/// <summary>
/// One matrix product <c>C (+)= op(A) · op(B)</c> described by pointers and leading dimensions.
/// op(A) is M x K: element (i, p) is <c>A[i * Lda + p]</c>, or <c>A[p * Lda + i]</c> when
/// <see cref="TransA"/>. op(B) is K x N: element (p, j) is <c>B[p * Ldb + j]</c>, or
/// <c>B[j * Ldb + p]</c> when <see cref="TransB"/>. C is M x N with row stride <see cref="Ldc"/>.
/// With a <see cref="Bias"/>, the epilogue adds it to every row of C as each tile of C is finished
/// (still in L1), and with an <see cref="Activation"/> also writes f(C) into <see cref="Activated"/>
/// (same shape and stride): a dense layer's <c>Z = XW + b</c> and <c>A = f(Z)</c> in the one pass
/// that writes Z, instead of two more passes over it.
/// </summary>
internal unsafe struct GemmArgs<T>
    where T : unmanaged
{
    public T* A;
    public T* B;
    public T* C;
    public int Lda;
    public int Ldb;
    public int Ldc;
    public int M;
    public int N;
    public int K;
    public bool TransA;
    public bool TransB;
    public bool Accumulate;
    public T* Bias;
    public T* Activated;
    public T* Mask;
    public FusedActivation Activation;
}

/// <summary>
/// The blocked GEMM (Goto's algorithm, as in BLIS): for each NC-wide column block of B and each
/// KC-deep slice of K, pack that part of op(B) into NR-wide micro-panels; for each MC-tall row
/// block of op(A), pack it into MR-tall micro-panels; then run the micro-kernel over every
/// MR x NR tile of C. The packed B micro-panel (KC x NR) stays in L1 while the packed A block
/// (MC x KC) streams from L2. Packing also turns the transposed forms into the same contiguous
/// layout, so one micro-kernel serves A·B, Aᵀ·B and A·Bᵀ. A (row-major or stored transposed) whose
/// lines spread over the level-1 cache is read in place instead of packed (<see cref="ReadsAInPlace"/>).
/// </summary>
internal static unsafe class GemmDriver<T>
    where T : unmanaged, INumber<T>
{
    /// <summary>Below this many multiply-adds a product runs on one thread: waking workers costs more.</summary>
    internal const long ParallelThreshold = 1L << 21;
    /// <summary>
    /// The same for narrow outputs (N ≤ one vector), whose products are mostly what a linear
    /// model's step computes: split from 2^19 (softmax regression 784-10, batch 128: 1 M each), the
    /// steady-state Fashion-MNIST epoch went from 0.076 to 0.060 s on a 2-core AMD EPYC Zen 4, with
    /// the batch gather split too.
    /// </summary>
    internal const long NarrowParallelThreshold = 1L << 19;

    private const int Alignment = 64;

    /// <summary>The fastest kernel this processor runs for <typeparamref name="T"/>.</summary>
    public static readonly GemmKernel BestKernel = ChooseKernel();

    [ThreadStatic] private static PackBuffers? t_buffers;

    private static GemmKernel ChooseKernel()
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            return GemmKernel.Scalar;
        if (Vector512.IsHardwareAccelerated)
            return GemmKernel.Vector512x12;
        if (Vector256.IsHardwareAccelerated)
            return GemmKernel.Vector256x6;
        if (Vector128.IsHardwareAccelerated)
            return RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? GemmKernel.Vector128x12 : GemmKernel.Vector128x6;
        return GemmKernel.Scalar;
    }

    /// <summary>True when this processor can run <paramref name="kernel"/> for <typeparamref name="T"/>.</summary>
    public static bool IsSupported(GemmKernel kernel) => kernel switch
    {
        GemmKernel.Scalar => true,
        _ when typeof(T) != typeof(float) && typeof(T) != typeof(double) => false,
        GemmKernel.Vector128x6 or GemmKernel.Vector128x12 => Vector128.IsHardwareAccelerated,
        GemmKernel.Vector256x6 => Vector256.IsHardwareAccelerated,
        GemmKernel.Vector512x12 => Vector512.IsHardwareAccelerated,
        _ => false,
    };

    /// <summary>
    /// Register tile and cache blocking for one kernel, derived from the cache sizes of the
    /// processor it runs on (<see cref="ProcessorInfo"/>), never from one processor's constants.
    /// </summary>
    /// <remarks>
    /// KC: the packed B micro-panel (KC x NR) fills 32 KiB, the level-1 data cache of the smallest
    /// x86 server cores (48 KiB on newer ones). It is re-read for every MR-row tile of the A block,
    /// but only two vectors per k step, which L2 could feed too; what a short KC costs is loading and
    /// storing the C tile once per KC slice (on an AMD EPYC Zen 4 core, KC 256 beat two thirds of its
    /// L1, 168, by 11% at 1024³). KC is the one block size that changes results, because the K
    /// slices are summed in turn, so it is not read from the machine: every AVX-512 processor gets
    /// the same KC and the same bits. MC: the packed A block (MC x KC), re-read for every NR-wide
    /// panel of B, is a quarter of L2. NC: the packed B block (KC x NC), re-read for every A block, is
    /// an eighth of L3. For float with AVX-512: KC 256 everywhere; MC 252 with 1 MiB of L2 (AMD Zen 4
    /// and Zen 5), 504 with 2 MiB (Intel Xeon Sapphire Rapids).
    /// </remarks>
    internal readonly struct Blocking
    {
        /// <summary>The bytes of the B micro-panel: fixed, not measured (see the remarks).</summary>
        private const int KcBudget = 32 * 1024;

        public readonly GemmKernel Kernel;
        public readonly int MR, NR, KC, MC, NC;

        public Blocking(GemmKernel kernel) : this(kernel, ProcessorInfo.Caches)
        {
        }

        public Blocking(GemmKernel kernel, CacheSizes caches)
        {
            Kernel = kernel;
            int w = kernel switch
            {
                GemmKernel.Vector512x12 => Vector512<T>.Count,
                GemmKernel.Vector256x6 => Vector256<T>.Count,
                GemmKernel.Vector128x6 or GemmKernel.Vector128x12 => Vector128<T>.Count,
                _ => 2,
            };
            MR = KernelRows(kernel);
            NR = 2 * w;
            KC = Math.Clamp(KcBudget / (NR * sizeof(T)) / 8 * 8, 64, 1024);
            MC = Math.Max(MR, caches.L2 / 4 / (KC * sizeof(T)) / MR * MR);
            long l3 = caches.L3 > 0 ? caches.L3 : 4L * caches.L2;
            NC = (int)Math.Clamp(l3 / 8 / (KC * sizeof(T)) / NR * NR, NR, 1 << 16);
        }
    }

    /// <summary>The work of one parallel call: the product and how it is cut into parts.</summary>
    private struct ParallelJob
    {
        public GemmArgs<T> Args;
        public GemmKernel Kernel;
        public int Parts;
        public int Chunk;
        public bool SplitRows;
    }

    /// <summary>
    /// Runs the product on up to <paramref name="maxThreads"/> threads (0 or less: all cores) with
    /// <paramref name="kernel"/>. Shapes and overlaps must already have been checked.
    /// </summary>
    public static void Run(in GemmArgs<T> args, int maxThreads, GemmKernel kernel)
    {
        if (args.M == 0 || args.N == 0)
            return;
        if (args.K == 0)
        {
            if (!args.Accumulate)
                for (int i = 0; i < args.M; i++)
                    new Span<T>(args.C + (long)i * args.Ldc, args.N).Clear();
            Finish(args, 0, args.M, 0, args.N);
            return;
        }

        int threads = maxThreads <= 0 ? KernelThreads.MaxParallelism : Math.Min(maxThreads, KernelThreads.MaxParallelism);
        long work = (long)args.M * args.N * args.K;
        if (args.N <= NarrowWidth(kernel))
        {
            RunNarrow(args, kernel, threads, work);
            return;
        }
        if (args.M == 1 && !args.TransA && !args.TransB && kernel != GemmKernel.Scalar)
        {
            RunRow(args, kernel, threads);
            return;
        }

        var blocking = new Blocking(kernel);
        if (threads > 1 && work >= ParallelThreshold)
        {
            // Cut C into strips along its longer side, each a whole number of register tiles.
            // Each strip packs its own panels: the duplicated packing is O(M·K) or O(K·N) per
            // strip against O(M·N·K / strips) of arithmetic.
            bool splitRows = args.M >= args.N;
            int length = splitRows ? args.M : args.N;
            int unit = splitRows ? blocking.MR : blocking.NR;
            int units = (length + unit - 1) / unit;
            int parts = Math.Min(threads, units);
            if (parts > 1)
            {
                var job = new ParallelJob
                {
                    Args = args,
                    Kernel = kernel,
                    Parts = parts,
                    Chunk = (units + parts - 1) / parts * unit,
                    SplitRows = splitRows,
                };
                KernelThreads.Run(&RunPart, &job, parts);
                return;
            }
        }

        RunBlock(args, blocking, 0, args.M, 0, args.N);
    }

    /// <summary>The widest N the narrow kernel takes: one vector (0 for the scalar kernel, which has none).</summary>
    private static int NarrowWidth(GemmKernel kernel) => kernel switch
    {
        GemmKernel.Vector512x12 => Vector512<T>.Count,
        GemmKernel.Vector256x6 => Vector256<T>.Count,
        GemmKernel.Vector128x6 or GemmKernel.Vector128x12 => Vector128<T>.Count,
        _ => 0,
    };

    /// <summary>The work of one parallel row call: the product and its column chunk.</summary>
    private struct RowJob
    {
        public GemmArgs<T> Args;
        public GemmKernel Kernel;
        public int KcStep, Chunk, Parts;
    }

    /// <summary>
    /// One row of C without packing (<see cref="GemmRowKernel"/>), K sliced as <see cref="RunBlock"/>
    /// slices it. A wide, deep product (a hidden layer's weights) is split by columns across the cores:
    /// each reads only its part of B, which then stays in its own L2 from one call to the next.
    /// </summary>
    private static void RunRow(in GemmArgs<T> args, GemmKernel kernel, int threads)
    {
        var blocking = new Blocking(kernel);
        int kBlocks = (args.K + blocking.KC - 1) / blocking.KC;
        int kcStep = (args.K + kBlocks - 1) / kBlocks;
        int unit = 8 * NarrowWidth(kernel);
        int units = args.N / unit;
        int parts = threads > 1 && (long)args.K * args.N >= RowParallelThreshold ? Math.Min(threads, units) : 1;
        if (parts > 1)
        {
            var job = new RowJob { Args = args, Kernel = kernel, KcStep = kcStep, Chunk = (units + parts - 1) / parts * unit, Parts = parts };
            KernelThreads.Run(&RunRowPart, &job, parts);
            Finish(args, 0, 1, 0, args.N);
            return;
        }
        RowColumns(args, kernel, kcStep);
        Finish(args, 0, 1, 0, args.N);
    }

    /// <summary>K·N from which one row is split across cores (a 784 x 256 float layer is 200,704).</summary>
    internal const long RowParallelThreshold = 1L << 17;

    private static void RunRowPart(void* state, int part)
    {
        ref readonly RowJob job = ref Unsafe.AsRef<RowJob>(state);
        int start = part * job.Chunk;
        // The last part takes every remaining column, including those past the last whole unit.
        int count = part == job.Parts - 1 ? job.Args.N - start : Math.Min(job.Chunk, job.Args.N - start);
        if (count <= 0)
            return;
        var args = job.Args;
        args.B += start;
        args.C += start;
        args.N = count;
        RowColumns(args, job.Kernel, job.KcStep);
    }

    private static void RowColumns(in GemmArgs<T> args, GemmKernel kernel, int kcStep)
    {
        switch (kernel)
        {
            case GemmKernel.Vector512x12:
                GemmRowKernel.Run<T, Vector512<T>, Vector512Ops<T>>(args, kcStep, wide: true);
                break;
            case GemmKernel.Vector256x6:
                GemmRowKernel.Run<T, Vector256<T>, Vector256Ops<T>>(args, kcStep, wide: false);
                break;
            default:
                GemmRowKernel.Run<T, Vector128<T>, Vector128Ops<T>>(args, kcStep, wide: kernel == GemmKernel.Vector128x12);
                break;
        }
    }

    /// <summary>The work of one parallel narrow call: the product, the shared packed B and the row chunk.</summary>
    private struct NarrowJob
    {
        public GemmArgs<T> Args;
        public GemmKernel Kernel;
        public T* PackedB;
        public int Chunk;
    }

    private static void RunNarrow(in GemmArgs<T> args, GemmKernel kernel, int threads, long work)
    {
        int w = NarrowWidth(kernel);
        var buffers = t_buffers ??= new PackBuffers();
        buffers.Ensure(0, args.K * w, w);
        T* packedB = (T*)buffers.B;
        GemmNarrowKernel.PackB(args, w, packedB);
        int blocks = (args.M + 11) / 12;
        int parts = threads > 1 && work >= NarrowParallelThreshold ? Math.Min(threads, blocks) : 1;
        if (parts > 1)
        {
            var job = new NarrowJob { Args = args, Kernel = kernel, PackedB = packedB, Chunk = (blocks + parts - 1) / parts * 12 };
            KernelThreads.Run(&RunNarrowPart, &job, parts);
            return;
        }
        NarrowRows(args, kernel, packedB, (T*)buffers.Tile, 0, args.M);
    }

    private static void RunNarrowPart(void* state, int part)
    {
        ref readonly NarrowJob job = ref Unsafe.AsRef<NarrowJob>(state);
        int start = part * job.Chunk;
        int count = Math.Min(job.Chunk, job.Args.M - start);
        if (count <= 0)
            return;
        var buffers = t_buffers ??= new PackBuffers();
        buffers.Ensure(0, 0, NarrowWidth(job.Kernel));
        NarrowRows(job.Args, job.Kernel, job.PackedB, (T*)buffers.Tile, start, count);
    }

    private static void NarrowRows(in GemmArgs<T> args, GemmKernel kernel, T* packedB, T* tile, int row0, int rows)
    {
        switch (kernel)
        {
            case GemmKernel.Vector512x12:
                GemmNarrowKernel.Run<T, Vector512<T>, Vector512Ops<T>>(args, packedB, tile, row0, rows);
                break;
            case GemmKernel.Vector256x6:
                GemmNarrowKernel.Run<T, Vector256<T>, Vector256Ops<T>>(args, packedB, tile, row0, rows);
                break;
            default:
                GemmNarrowKernel.Run<T, Vector128<T>, Vector128Ops<T>>(args, packedB, tile, row0, rows);
                break;
        }
        // After the kernel, not inside it: any more code around its accumulators made the JIT
        // spill all twelve of them to the stack on every step (2.4x slower).
        Finish(args, row0, rows, 0, args.N);
    }

    private static void RunPart(void* state, int part)
    {
        ref readonly ParallelJob job = ref Unsafe.AsRef<ParallelJob>(state);
        var blocking = new Blocking(job.Kernel);
        int start = part * job.Chunk;
        int length = job.SplitRows ? job.Args.M : job.Args.N;
        int count = Math.Min(job.Chunk, length - start);
        if (count <= 0)
            return;
        if (job.SplitRows)
            RunBlock(job.Args, blocking, start, count, 0, job.Args.N);
        else
            RunBlock(job.Args, blocking, 0, job.Args.M, start, count);
    }

    // The loops below are marked AggressiveOptimization: a training run calls them a few hundred
    // times a second, and with tiering they would spend the first ~100 ms in unoptimized code
    // (measured: about 125 against 205 GFLOP/s for [128x784]·[784x256] in a short run).

    /// <summary>Computes the rows x cols block of C at (row0, col0) on this thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunBlock(in GemmArgs<T> args, in Blocking blk, int row0, int rows, int col0, int cols)
    {
        int mr = blk.MR, nr = blk.NR;

        // Split K and M evenly rather than leaving a thin last block: a 16-deep remainder slice
        // would pay the full cost of loading and storing C for very little arithmetic.
        int kBlocks = (args.K + blk.KC - 1) / blk.KC;
        int kcStep = (args.K + kBlocks - 1) / kBlocks;
        int mBlocks = (rows + blk.MC - 1) / blk.MC;
        int mcStep = RoundUp((rows + mBlocks - 1) / mBlocks, mr);
        int ncMax = Math.Min(blk.NC, RoundUp(cols, nr));

        var buffers = t_buffers ??= new PackBuffers();
        buffers.Ensure(mcStep * kcStep, kcStep * ncMax, mr * nr);
        T* packA = (T*)buffers.A;
        T* packB = (T*)buffers.B;
        T* tile = (T*)buffers.Tile;

        bool inPlaceA = ReadsAInPlace(args, blk);
        for (int jc = 0; jc < cols; jc += ncMax)
        {
            int nc = Math.Min(ncMax, cols - jc);
            for (int pc = 0; pc < args.K; pc += kcStep)
            {
                int kc = Math.Min(kcStep, args.K - pc);
                bool add = args.Accumulate || pc > 0;
                bool last = pc + kc >= args.K;
                PackB(args, pc, kc, col0 + jc, nc, nr, packB);
                for (int ic = 0; ic < rows; ic += mcStep)
                {
                    int mc = Math.Min(mcStep, rows - ic);
                    // Tiles before packedFrom read A in place, the rest packed panels. In place, only
                    // a last tile of a row count no kernel has (not 4, 8 or 12) is packed.
                    int packedFrom = 0;
                    if (inPlaceA)
                    {
                        packedFrom = mc / mr * mr;
                        int left = mc - packedFrom;
                        if (left == 0 || ShortRows(blk.Kernel, left) == left)
                            packedFrom = mc;
                    }
                    if (packedFrom < mc)
                        PackA(args, row0 + ic + packedFrom, mc - packedFrom, pc, kc, mr, packA + (long)packedFrom * kc);
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int ncols = Math.Min(nr, nc - jr);
                        T* bPanel = packB + (long)jr * kc;
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            T* c = args.C + (long)(row0 + ic + ir) * args.Ldc + col0 + jc + jr;
                            int nrows = Math.Min(mr, mc - ir);
                            int kernelRows = ShortRows(blk.Kernel, nrows);
                            if (ncols == nr && kernelRows == nrows)
                            {
                                // A whole tile, or the last 8 or 4 rows for a 12-row kernel: straight into C.
                                Tile(blk.Kernel, nrows, kc, args, row0 + ic + ir, pc, ir < packedFrom, packA + (long)ir * kc, bPanel, c, args.Ldc, add);
                                if (last)
                                    Finish(args, row0 + ic + ir, nrows, col0 + jc + jr, ncols);
                            }
                            else
                            {
                                // Edge tile: compute the padded tile (or its first 4 or 8 rows) aside,
                                // then copy in what fits.
                                Tile(blk.Kernel, kernelRows, kc, args, row0 + ic + ir, pc, ir < packedFrom, packA + (long)ir * kc, bPanel, tile, nr, add: false);
                                for (int r = 0; r < nrows; r++)
                                {
                                    var src = new ReadOnlySpan<T>(tile + r * nr, ncols);
                                    var dst = new Span<T>(c + (long)r * args.Ldc, ncols);
                                    if (add)
                                        System.Numerics.Tensors.TensorPrimitives.Add(dst, src, dst);
                                    else
                                        src.CopyTo(dst);
                                }
                                if (last)
                                    Finish(args, row0 + ic + ir, nrows, col0 + jc + jr, ncols);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// One tile of <paramref name="rows"/> rows (<see cref="ShortRows"/>) from depth p0: A read in
    /// place from row <paramref name="row"/> of op(A) when <paramref name="inPlace"/>, else from the
    /// packed panel <paramref name="aPanel"/>. Same arithmetic either way, so the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile(GemmKernel kernel, int rows, int kc, in GemmArgs<T> args, int row, int p0, bool inPlace, T* aPanel, T* b, T* c, int ldc, bool add)
    {
        if (!inPlace)
            ShortKernel<PackedPanel>(kernel, rows, kc, aPanel, 0, b, c, ldc, add);
        else if (args.TransA)
            ShortKernel<TransposedPanel>(kernel, rows, kc, args.A + (long)p0 * args.Lda + row, args.Lda, b, c, ldc, add);
        else
            ShortKernel<RowMajorPanel>(kernel, rows, kc, args.A + (long)row * args.Lda + p0, args.Lda, b, c, ldc, add);
    }

    /// <summary>
    /// Whether the micro-kernel reads A where it lies instead of a packed copy. Packing A is one
    /// more pass over it per strip of C, and when a product's columns are split across cores, every
    /// core packs all of A: for the first layer's forward product [128x784]·[784x256] on two cores
    /// of an AMD EPYC Zen 4, reading A in place took 0.94x the time (median of 6 alternating runs;
    /// 1,000 x 784 x 256: 0.93x, 500³ on one core 0.95x, 1000³ the same). The arithmetic is the
    /// same, so are the bits. Row-major A is read a row per register-tile row, Aᵀ stored (the
    /// weight gradient Xᵀ·dZ) a line per k step, MR values of it; either way the lines a tile
    /// reads must not crowd into a few sets of the level-1 cache. An x86 L1 data cache has 64 sets
    /// of 64-byte lines (4 KiB a way, for its virtually indexed lookup), so lines 4 KiB apart all
    /// land in one set (1024³ read in place: 1.08x the time). Not for the scalar kernel.
    /// </summary>
    internal static bool ReadsAInPlace(in GemmArgs<T> args, in Blocking blk)
    {
        if (blk.Kernel == GemmKernel.Scalar)
            return false;
        const int sets = 64, lineBytes = 64;
        Span<byte> perSet = stackalloc byte[sets];
        long stride = (long)args.Lda * sizeof(T);
        // Row-major: the lines of the MR rows of a tile, at most two to a set. Transposed: the
        // lines of up to KC steps, at most twice as many to a set as an even spread would put there.
        int count = args.TransA ? Math.Min(blk.KC, args.K) : blk.MR;
        int most = args.TransA ? 2 * ((count + sets - 1) / sets) : 2;
        long previous = -1;
        for (int r = 0; r < count; r++)
        {
            long line = r * stride / lineBytes;
            if (line != previous && ++perSet[(int)(line % sets)] > most)
                return false;
            previous = line;
        }
        return true;
    }

    /// <summary>
    /// The epilogue on the finished block of C at (row0, col0): adds the bias row, then writes the
    /// activation of the result into <see cref="GemmArgs{T}.Activated"/>. Nothing without a bias.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Finish(in GemmArgs<T> args, int row0, int rows, int col0, int cols)
    {
        if (args.Bias == null && args.Activation == FusedActivation.None)
            return;
        FinishCore(args, row0, rows, col0, cols);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void FinishCore(in GemmArgs<T> args, int row0, int rows, int col0, int cols)
    {
        if (args.Activation == FusedActivation.ReluGradient)
        {
            // Row by row through the activation's own element-wise loop: the bits of its backward pass.
            for (int r = 0; r < rows; r++)
            {
                long offset = (long)(row0 + r) * args.Ldc + col0;
                if (typeof(T) == typeof(float))
                    ReluGradientRow((float*)args.Mask + offset, (float*)args.C + offset, (float*)args.Activated + offset, cols);
                else if (typeof(T) == typeof(double))
                    ReluGradientRow((double*)args.Mask + offset, (double*)args.C + offset, (double*)args.Activated + offset, cols);
                else
                    throw new NotSupportedException($"The fused ReLU gradient needs float or double, not {typeof(T).Name} (Gemm.MultiplyTransposeBReluGradient runs two passes for it).");
            }
            return;
        }
        T* bias = args.Bias + col0;
        bool relu = args.Activation == FusedActivation.Relu;
        for (int r = 0; r < rows; r++)
        {
            T* c = args.C + (long)(row0 + r) * args.Ldc + col0;
            T* a = relu ? args.Activated + (long)(row0 + r) * args.Ldc + col0 : null;
            int j = 0;
            if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
            {
                for (; j + Vector<T>.Count <= cols; j += Vector<T>.Count)
                {
                    var z = Vector.Load(c + j) + Vector.Load(bias + j);
                    z.Store(c + j);
                    if (relu)
                        Vector.Max(z, Vector<T>.Zero).Store(a + j);
                }
            }
            for (; j < cols; j++)
            {
                T z = c[j] + bias[j];
                c[j] = z;
                if (relu)
                    a[j] = T.Max(z, T.Zero);
            }
        }
    }

    private static void ReluGradientRow<TF>(TF* x, TF* dy, TF* dx, int count)
        where TF : unmanaged, IFloatingPointIeee754<TF>
        => ElementwiseLoop.Run(new ReadOnlySpan<TF>(x, count), new ReadOnlySpan<TF>(dy, count), new Span<TF>(dx, count),
            default(ReluDerivative<TF>));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MicroKernel<TLayout>(GemmKernel kernel, int kc, T* a, nint lda, T* b, T* c, int ldc, bool add)
        where TLayout : struct, IPanelLayout
    {
        switch (kernel)
        {
            case GemmKernel.Vector512x12:
                GemmMicroKernel.Kernel<T, Vector512<T>, Vector512Ops<T>, Tile12, TLayout>(kc, a, lda, b, c, ldc, add);
                break;
            case GemmKernel.Vector256x6:
                GemmMicroKernel.Kernel<T, Vector256<T>, Vector256Ops<T>, Tile6, TLayout>(kc, a, lda, b, c, ldc, add);
                break;
            case GemmKernel.Vector128x12:
                GemmMicroKernel.Kernel<T, Vector128<T>, Vector128Ops<T>, Tile12, TLayout>(kc, a, lda, b, c, ldc, add);
                break;
            case GemmKernel.Vector128x6:
                GemmMicroKernel.Kernel<T, Vector128<T>, Vector128Ops<T>, Tile6, TLayout>(kc, a, lda, b, c, ldc, add);
                break;
            default:
                // Always a packed panel: ReadsAInPlace is false for the scalar kernel.
                ScalarKernel(kc, a, b, c, ldc, add);
                break;
        }
    }

    /// <summary>
    /// The rows a tile of <paramref name="rows"/> ≤ MR rows is computed with: 4, 8 or 12 (whichever
    /// is the first to hold them) for the 12-row kernels, which have short variants; MR otherwise.
    /// </summary>
    private static int ShortRows(GemmKernel kernel, int rows) =>
        kernel is GemmKernel.Vector512x12 or GemmKernel.Vector128x12 ? (rows <= 4 ? 4 : rows <= 8 ? 8 : 12) : KernelRows(kernel);

    /// <summary>MR: the rows of the kernel's register tile.</summary>
    private static int KernelRows(GemmKernel kernel) =>
        kernel is GemmKernel.Vector512x12 or GemmKernel.Vector128x12 ? 12 : kernel == GemmKernel.Scalar ? 4 : 6;

    /// <summary>The first <paramref name="rows"/> rows of a tile (<see cref="ShortRows"/>; MR: the whole tile): every element summed as by the full kernel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ShortKernel<TLayout>(GemmKernel kernel, int rows, int kc, T* a, nint lda, T* b, T* c, int ldc, bool add)
        where TLayout : struct, IPanelLayout
    {
        if (rows == 8 && kernel == GemmKernel.Vector512x12)
            GemmMicroKernel.Kernel<T, Vector512<T>, Vector512Ops<T>, Tile8Of12, TLayout>(kc, a, lda, b, c, ldc, add);
        else if (rows == 4 && kernel == GemmKernel.Vector512x12)
            GemmMicroKernel.Kernel<T, Vector512<T>, Vector512Ops<T>, Tile4Of12, TLayout>(kc, a, lda, b, c, ldc, add);
        else if (rows == 8 && kernel == GemmKernel.Vector128x12)
            GemmMicroKernel.Kernel<T, Vector128<T>, Vector128Ops<T>, Tile8Of12, TLayout>(kc, a, lda, b, c, ldc, add);
        else if (rows == 4 && kernel == GemmKernel.Vector128x12)
            GemmMicroKernel.Kernel<T, Vector128<T>, Vector128Ops<T>, Tile4Of12, TLayout>(kc, a, lda, b, c, ldc, add);
        else
            MicroKernel<TLayout>(kernel, kc, a, lda, b, c, ldc, add);
    }

    /// <summary>The 4 x 4 tile for element types and processors without SIMD.</summary>
    private static void ScalarKernel(int kc, T* a, T* b, T* c, int ldc, bool add)
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

    /// <summary>
    /// Packs rows [i0, i0 + mc) and depth [p0, p0 + kc) of op(A) into MR-tall micro-panels:
    /// panel q holds, for each p, the MR values of rows q·MR .. q·MR + MR - 1, zero past mc.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA(in GemmArgs<T> args, int i0, int mc, int p0, int kc, int mr, T* dst)
    {
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
    private static void PackB(in GemmArgs<T> args, int p0, int kc, int j0, int nc, int nr, T* dst)
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
                CopyShort(src + q, d, width);
            if (full < length)
            {
                CopyShort(src + full, d, length - full);
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

    /// <summary>Copies a short run (a panel's width) with whole vectors, without a call into memmove.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyShort(T* src, T* dst, int count)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
            for (; i + Vector512<T>.Count <= count; i += Vector512<T>.Count)
                Vector512.Load(src + i).Store(dst + i);
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            for (; i + Vector256<T>.Count <= count; i += Vector256<T>.Count)
                Vector256.Load(src + i).Store(dst + i);
        if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
            for (; i + Vector128<T>.Count <= count; i += Vector128<T>.Count)
                Vector128.Load(src + i).Store(dst + i);
        for (; i < count; i++)
            dst[i] = src[i];
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>
    /// One thread's packing buffers: pinned (on the pinned object heap, so their addresses never
    /// change), 64-byte aligned, grown on demand and then reused by every later call.
    /// </summary>
    private sealed class PackBuffers
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
