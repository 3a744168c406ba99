using System.Numerics;
using System.Runtime.CompilerServices;

namespace NeuralBasics.Kernels;

/// <summary>
/// One matrix product <c>C (+)= op(A) · op(B)</c> described by pointers and leading dimensions.
/// op(A) is M x K: element (i, p) is <c>A[i * Lda + p]</c>, or <c>A[p * Lda + i]</c> when
/// <see cref="TransA"/>. op(B) is K x N: element (p, j) is <c>B[p * Ldb + j]</c>, or
/// <c>B[j * Ldb + p]</c> when <see cref="TransB"/>. C is M x N with row stride <see cref="Ldc"/>.
/// With a <see cref="Bias"/>, the epilogue adds it to every row of C as each tile of C is finished
/// (still in L1), and with an <see cref="Activation"/> also writes f(C) into <see cref="Activated"/>
/// (same shape and stride; <see cref="Activated"/> = C writes f(C) over C): a dense layer's
/// <c>Z = XW + b</c> and <c>A = f(Z)</c> in the one pass that writes Z, instead of two more passes over it.
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
    /// <summary>
    /// The depth of the blocked kernel's K slices when set (0: the driver's own, from K): a part of
    /// a deeper product given in depth blocks (<see cref="GemmDriver{T}.RunMadeInDepthBlocks"/>)
    /// keeps the whole product's slices, and so its bits.
    /// </summary>
    public int KcStep;
    /// <summary>
    /// When set, op(A) is gathered rather than strided (<see cref="TransA"/> set, <see cref="Lda"/>
    /// unused): element (i, p) is <c>A[AOffsets[p] + AColumns[i]]</c>. A convolution's X̂ᵀ read from
    /// the padded images without making X̂. Only the blocked kernel takes it
    /// (<see cref="Gemm.MultiplyTransposeAGathered"/>).
    /// </summary>
    public int* AOffsets;
    /// <summary>op(A)'s rows' offsets when <see cref="AOffsets"/> is set.</summary>
    public int* AColumns;
    /// <summary>
    /// Every MR-row tile of a gathered op(A) has consecutive <see cref="AColumns"/>, so the
    /// micro-kernel reads it in place (<see cref="GatheredPanel"/>); otherwise it is packed.
    /// </summary>
    public bool AColumnsInTiles;
}

/// <summary>
/// The blocked GEMM (Goto's algorithm, as in BLIS): for each NC-wide column block of B and each
/// KC-deep slice of K, pack that part of op(B) into NR-wide micro-panels; for each MC-tall row
/// block of op(A), pack it into MR-tall micro-panels; then run the micro-kernel over every
/// MR x NR tile of C. The packed B micro-panel (KC x NR) stays in L1 while the packed A block
/// (MC x KC) streams from L2. Packing (<see cref="GemmPacking{T}"/>) also turns the transposed forms
/// into the same contiguous layout, so one micro-kernel serves A·B, Aᵀ·B and A·Bᵀ. A (row-major or
/// stored transposed) whose lines spread over the level-1 cache is read in place instead of packed
/// (<see cref="ReadsAInPlace"/>). The bias and activation are applied as each block of C is
/// finished (<see cref="GemmEpilogue{T}"/>).
/// </summary>
/// <remarks>
/// The driver knows the micro-kernel only through its description (<see cref="GemmKernelDescription{T}"/>):
/// tile, blocking, short tiles, what it may read in place and its entry points.
/// </remarks>
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

    /// <summary>K·N from which one row is split across cores (a 784 x 256 float layer is 200,704).</summary>
    internal const long RowParallelThreshold = 1L << 17;

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
            GemmEpilogue<T>.Finish(args, 0, args.M, 0, args.N);
            return;
        }

        var description = GemmKernelDescription<T>.For(kernel);
        int threads = maxThreads <= 0 ? KernelThreads.MaxParallelism : Math.Min(maxThreads, KernelThreads.MaxParallelism);
        long work = (long)args.M * args.N * args.K;
        if (args.N <= description.NarrowWidth)
        {
            RunNarrow(args, description, threads, work);
            return;
        }
        if (IsDeepNarrow(args, description))
        {
            RunDeepNarrow(args, description, threads);
            return;
        }
        if (args.M == 1 && !args.TransA && !args.TransB && description.Row != null)
        {
            RunRow(args, description, threads);
            return;
        }

        if (threads > 1 && work >= ParallelThreshold)
        {
            // Cut C into strips along its longer side, each a whole number of register tiles.
            // Each strip packs its own panels: the duplicated packing is O(M·K) or O(K·N) per
            // strip against O(M·N·K / strips) of arithmetic.
            bool splitRows = args.M >= args.N;
            int length = splitRows ? args.M : args.N;
            int unit = splitRows ? description.MR : description.NR;
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

        RunBlock(args, description, 0, args.M, 0, args.N);
    }

    private static void RunPart(void* state, int part)
    {
        ref readonly ParallelJob job = ref Unsafe.AsRef<ParallelJob>(state);
        int start = part * job.Chunk;
        int length = job.SplitRows ? job.Args.M : job.Args.N;
        int count = Math.Min(job.Chunk, length - start);
        if (count <= 0)
            return;
        var description = GemmKernelDescription<T>.For(job.Kernel);
        if (job.SplitRows)
            RunBlock(job.Args, description, start, count, 0, job.Args.N);
        else
            RunBlock(job.Args, description, 0, job.Args.M, start, count);
    }

    /// <summary>The work of one parallel row call: the product and how it is cut (by K slices or by columns).</summary>
    private struct RowJob
    {
        public GemmArgs<T> Args;
        public GemmKernel Kernel;
        public int KcStep, Chunk, Parts, SlicesPerPart;
        /// <summary>Split by K: one row of N per slice past the first part's, each slice's sum from zero.</summary>
        public T* Slices;
    }

    /// <summary>
    /// One row of C without packing (<see cref="GemmRowKernel"/>), K sliced as <see cref="RunBlock"/>
    /// slices it. A wide, deep product (a hidden layer's weights) is split across the cores by its K
    /// slices: each core reads a contiguous block of B's rows, which then stays in its own L2 from one
    /// call to the next. The first part adds its slices into C as one core would; every later slice
    /// is summed from zero into a row of its own, and those rows are added to C after it, in slice
    /// order: the same additions in the same order, so the same bits as one core. A product of one K
    /// slice is split by columns instead.
    /// </summary>
    /// <remarks>
    /// The split by columns, which came first, had each core read half of every row of B, 512 bytes
    /// of each 1 KiB row for the 784 x 256 layer: the L2 prefetchers ran on into the other half, so
    /// neither core's half stayed in its L2, and each half took 4.4–4.9 µs beside the other against
    /// 2.5 µs alone (AVX-512, Zen 5); two cores were slower than one (6.0 against 5.6 µs).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunRow(in GemmArgs<T> args, GemmKernelDescription<T> kernel, int threads)
    {
        int kBlocks = (args.K + kernel.KC - 1) / kernel.KC;
        int kcStep = (args.K + kBlocks - 1) / kBlocks;
        bool wide = threads > 1 && (long)args.K * args.N >= RowParallelThreshold;
        if (wide && kBlocks > 1)
        {
            int parts = Math.Min(threads, kBlocks);
            int perPart = (kBlocks + parts - 1) / parts;
            parts = (kBlocks + perPart - 1) / perPart;
            int laterSlices = kBlocks - perPart;
            var buffers = GemmPacking<T>.Buffers;
            buffers.Ensure(laterSlices * args.N, 0, 0);
            var job = new RowJob { Args = args, Kernel = kernel.Kernel, KcStep = kcStep, Parts = parts, SlicesPerPart = perPart, Slices = (T*)buffers.A };
            KernelThreads.Run(&RunRowSlices, &job, parts);
            AddSlicesInOrder(args.C, args.Ldc, 1, args.N, job.Slices, laterSlices);
        }
        else if (wide && args.N / (8 * kernel.Lanes) > 1)
        {
            int unit = 8 * kernel.Lanes;
            int units = args.N / unit;
            int parts = Math.Min(threads, units);
            var job = new RowJob { Args = args, Kernel = kernel.Kernel, KcStep = kcStep, Chunk = (units + parts - 1) / parts * unit, Parts = parts };
            KernelThreads.Run(&RunRowColumns, &job, parts);
        }
        else
        {
            kernel.Row(args, kcStep, kernel.WideRow);
        }
        GemmEpilogue<T>.Finish(args, 0, 1, 0, args.N);
    }

    /// <summary>Part <paramref name="part"/>'s K slices: the first part's into C, every later slice into its own row of <see cref="RowJob.Slices"/>.</summary>
    private static void RunRowSlices(void* state, int part)
    {
        ref readonly RowJob job = ref Unsafe.AsRef<RowJob>(state);
        var kernel = GemmKernelDescription<T>.For(job.Kernel);
        int first = part * job.SlicesPerPart;
        int pStart = first * job.KcStep;
        if (pStart >= job.Args.K)
            return;
        var args = job.Args;
        if (part == 0)
        {
            args.K = Math.Min(job.Args.K, job.SlicesPerPart * job.KcStep);
            kernel.Row(args, job.KcStep, kernel.WideRow);
            return;
        }
        args.Accumulate = false;
        for (int s = first; s < first + job.SlicesPerPart && s * job.KcStep < job.Args.K; s++)
        {
            int p0 = s * job.KcStep;
            args.A = job.Args.A + p0;
            args.B = job.Args.B + (long)p0 * job.Args.Ldb;
            args.K = Math.Min(job.KcStep, job.Args.K - p0);
            args.C = job.Slices + (long)(s - job.SlicesPerPart) * job.Args.N;
            kernel.Row(args, job.KcStep, kernel.WideRow);
        }
    }

    private static void RunRowColumns(void* state, int part)
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
        var kernel = GemmKernelDescription<T>.For(job.Kernel);
        kernel.Row(args, job.KcStep, kernel.WideRow);
    }

    /// <summary>The work of one parallel narrow call: the product, the shared panel of B and the row chunk.</summary>
    private struct NarrowJob
    {
        public GemmArgs<T> Args;
        public GemmKernel Kernel;
        public NarrowPanel<T> Panel;
        public int Vectors;
        public int Chunk;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunNarrow(in GemmArgs<T> args, GemmKernelDescription<T> kernel, int threads, long work)
    {
        int vectors = (args.N + kernel.Lanes - 1) / kernel.Lanes;
        int width = vectors * kernel.Lanes;
        var buffers = GemmPacking<T>.Buffers;
        var panel = new NarrowPanel<T> { Width = width };
        if (!args.TransB)
        {
            // B read where it lies: packing it (a few floats a row, copied and padded) cost more
            // than a few rows' arithmetic, and it ran on the calling thread before the rows were
            // split. One row through a 256 x 10 output layer took 2.0–2.6 µs with B packed and
            // 0.37 µs in place; [128x784]·[784x10] on two Zen 5 cores with AVX-512 disabled went from
            // 67–68 to 100–105 GFLOP/s, and one thread gained 7–10% at every narrow shape measured.
            // Each row's lanes past N hold the next row's values, which B's other rows put through
            // the same arithmetic anyway. The rows whose vectors end inside B
            // (p·ldb + width ≤ (K - 1)·ldb + N) are read in place; the last few are copied, padded,
            // into the tail.
            int head = InPlaceRows(args.K, args.Ldb, args.N, width);
            buffers.Ensure(0, (args.K - head) * width, width);
            GemmPacking<T>.PackB(args, head, args.K - head, 0, args.N, width, (T*)buffers.B);
            panel.Head = args.B;
            panel.HeadStride = args.Ldb;
            panel.HeadRows = head;
            panel.Tail = (T*)buffers.B;
        }
        else
        {
            buffers.Ensure(0, args.K * width, width);
            GemmPacking<T>.PackB(args, 0, args.K, 0, args.N, width, (T*)buffers.B);
            panel.Head = panel.Tail = (T*)buffers.B;
            panel.HeadStride = width;
            panel.HeadRows = args.K;
        }
        int slices = (args.K + NarrowSlice - 1) / NarrowSlice;
        if (slices > 1)
        {
            RunNarrowSlices(args, kernel, threads, work, vectors, panel, slices);
            return;
        }
        int blocks = (args.M + 11) / 12;
        int parts = threads > 1 && work >= NarrowParallelThreshold ? Math.Min(threads, blocks) : 1;
        if (parts > 1)
        {
            // Whole blocks of 12 rows: a multiple of every narrow shape's rows.
            var job = new NarrowJob { Args = args, Kernel = kernel.Kernel, Panel = panel, Vectors = vectors, Chunk = (blocks + parts - 1) / parts * 12 };
            KernelThreads.Run(&RunNarrowPart, &job, parts);
            return;
        }
        NarrowRows(args, kernel, vectors, panel, (T*)buffers.Tile, 0, args.M);
    }

    /// <summary>
    /// A product of at most two register tiles of rows and at least two <see cref="NarrowSlice"/>s
    /// deep goes to the narrow kernel, in column blocks of up to three vectors, even where the
    /// blocked kernel takes its width in general (AVX-512): the blocked kernel would pack all of
    /// op(B), K·N values, for M·N·K multiply-adds with M ≤ 24, and run on one core. A convolution's
    /// weight gradient is such a product (X̂ᵀ·dY, 9 x 32 and K = 100,352 for the first layer of the
    /// Fashion-MNIST CNN, where packing dY took 41% of the time). The slices' sums take N/2,048 of
    /// A's size in scratch.
    /// </summary>
    internal static bool IsDeepNarrow(in GemmArgs<T> args, GemmKernelDescription<T> kernel) => IsDeepNarrowShape(args.M, args.K, kernel);

    private static bool IsDeepNarrowShape(int m, int k, GemmKernelDescription<T> kernel) =>
        kernel.DeepNarrowWidth > 0 && k >= 2 * NarrowSlice && m <= 2 * kernel.MR;

    /// <summary>
    /// Whether <see cref="Gemm.MultiplyTransposeA{T}(ReadOnlyMatrixSpan{T}, ReadOnlyMatrixSpan{T}, MatrixSpan{T}, bool, int)"/>
    /// of an m x n result over depth k sums each element as the narrow kernel does: one chain of
    /// multiply-adds from zero over each <see cref="NarrowSlice"/> of K, the first slice into C and
    /// the later ones added in slice order. A kernel that computes such a product its own way
    /// (<see cref="ConvReluPool{T}"/>'s weight gradient) keeps its bits by the same sums.
    /// </summary>
    internal static bool SumsInNarrowSlices(int m, int n, int k)
    {
        var kernel = GemmKernelDescription<T>.Best;
        return kernel.VectorBits > 0 && m > 0 && k > 0 && TakesNarrowKernel(m, n, k, kernel);
    }

    /// <summary>
    /// Whether <see cref="Run"/> gives an m x n product k deep to the narrow kernel (N within its
    /// width, or a deep product of few rows) rather than the blocked one: the choices Run makes, in
    /// its order, for those that slice K their own way (<see cref="SumsInNarrowSlices"/>, <see cref="Blocks"/>).
    /// </summary>
    private static bool TakesNarrowKernel(int m, int n, int k, GemmKernelDescription<T> kernel) =>
        n <= kernel.NarrowWidth || IsDeepNarrowShape(m, k, kernel);

    /// <summary>Whether <see cref="Run"/> gives a product of Aᵀ stored (m x n, k deep) to the blocked kernel (<see cref="RunBlock"/>, whole or in parts).</summary>
    internal static bool TakesBlockedKernel(int m, int n, int k, GemmKernelDescription<T> kernel) =>
        !TakesNarrowKernel(m, n, k, kernel);

    /// <summary>
    /// A deep product of few rows (<see cref="IsDeepNarrow"/>) through the narrow kernel, in column
    /// blocks of at most <see cref="GemmKernelDescription{T}.DeepNarrowWidth"/> (32 columns on AVX2:
    /// 24 and 8), each sliced along K; the bias and activation once the product is whole.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunDeepNarrow(in GemmArgs<T> args, GemmKernelDescription<T> kernel, int threads)
    {
        int width = kernel.DeepNarrowWidth;
        for (int c0 = 0; c0 < args.N; c0 += width)
        {
            var block = args;
            block.N = Math.Min(width, args.N - c0);
            block.B += args.TransB ? (long)c0 * args.Ldb : c0;
            block.C += c0;
            block.Bias = null;
            block.Activated = null;
            block.Mask = null;
            block.Activation = FusedActivation.None;
            RunNarrow(block, kernel, threads, (long)args.M * block.N * args.K);
        }
        GemmEpilogue<T>.Finish(args, 0, args.M, 0, args.N);
    }

    /// <summary>
    /// The depth of one slice of a deep narrow product (<see cref="RunNarrowSlices"/>): a fixed
    /// number, not taken from the core count or the caches, so the bits depend on the shape alone. A
    /// slice of op(B) three vectors of 16 floats wide is 384 KiB, inside any L2 of 512 KiB or more.
    /// </summary>
    internal const int NarrowSlice = 2048;

    /// <summary>The work of a narrow product sliced along K: the product, its panel of B, and where the later slices' sums go.</summary>
    private struct NarrowSliceJob
    {
        public GemmArgs<T> Args;
        public GemmKernel Kernel;
        public NarrowPanel<T> Panel;
        public int Vectors, Slices, SlicesPerPart;
        /// <summary>One M x N block per slice after the first, each slice's sum from zero.</summary>
        public T* Partials;
    }

    /// <summary>
    /// A narrow product deeper than <see cref="NarrowSlice"/>: K cut into slices of that depth, each
    /// multiplied over all M rows; the first slice goes into C as the whole product would, every
    /// later one is summed from zero into a block of its own, and the blocks are added to C in slice
    /// order, so the bits do not depend on how many cores took the slices. A convolution's weight
    /// gradient (X̂ᵀ·dY: nine rows, 32 columns, K = 100,352 for the first layer of the Fashion-MNIST
    /// CNN) had one block of rows, so it ran on one core and streamed dY from memory once for every
    /// few rows; sliced, the cores share it and each slice of dY is read from cache.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunNarrowSlices(in GemmArgs<T> args, GemmKernelDescription<T> kernel, int threads, long work, int vectors,
        in NarrowPanel<T> panel, int slices)
    {
        long block = (long)args.M * args.N;
        var buffers = GemmPacking<T>.Buffers;
        buffers.Ensure(checked((int)((slices - 1) * block)), 0, vectors * kernel.Lanes);
        int parts = threads > 1 && work >= NarrowParallelThreshold ? Math.Min(threads, slices) : 1;
        var job = new NarrowSliceJob
        {
            Args = args,
            Kernel = kernel.Kernel,
            Panel = panel,
            Vectors = vectors,
            Slices = slices,
            SlicesPerPart = (slices + parts - 1) / parts,
            Partials = (T*)buffers.A,
        };
        if (parts > 1)
            KernelThreads.Run(&RunNarrowSlicePart, &job, parts);
        else
            RunNarrowSlicePart(&job, 0);
        AddSlicesInOrder(args.C, args.Ldc, args.M, args.N, job.Partials, slices - 1);
        GemmEpilogue<T>.Finish(args, 0, args.M, 0, args.N);
    }

    /// <summary>
    /// C (<paramref name="rows"/> x <paramref name="n"/>, rows <paramref name="ldc"/> apart) += each of
    /// <paramref name="count"/> dense rows x n blocks at <paramref name="slices"/>, first to last: the
    /// later K slices of a product split along K, added in slice order so the bits do not depend on the cores.
    /// </summary>
    internal static void AddSlicesInOrder(T* c, int ldc, int rows, int n, T* slices, int count)
    {
        for (int s = 0; s < count; s++)
        {
            T* slice = slices + (long)s * rows * n;
            for (int i = 0; i < rows; i++)
            {
                var row = new Span<T>(c + (long)i * ldc, n);
                System.Numerics.Tensors.TensorPrimitives.Add(row, new ReadOnlySpan<T>(slice + (long)i * n, n), row);
            }
        }
    }

    private static void RunNarrowSlicePart(void* state, int part)
    {
        ref readonly NarrowSliceJob job = ref Unsafe.AsRef<NarrowSliceJob>(state);
        var kernel = GemmKernelDescription<T>.For(job.Kernel);
        var buffers = GemmPacking<T>.Buffers;
        buffers.Ensure(0, 0, job.Vectors * kernel.Lanes);
        var narrow = kernel.Narrow(job.Vectors);
        int end = Math.Min(job.Slices, (part + 1) * job.SlicesPerPart);
        for (int s = part * job.SlicesPerPart; s < end; s++)
        {
            int p0 = s * NarrowSlice;
            var args = job.Args;
            args.K = Math.Min(NarrowSlice, job.Args.K - p0);
            args.A += (long)p0 * (args.TransA ? args.Lda : 1);
            if (s > 0)
            {
                args.C = job.Partials + (s - 1) * (long)args.M * args.N;
                args.Ldc = args.N;
                args.Accumulate = false;
            }
            // This slice's rows of the panel: those read in place first, then those copied into the tail.
            var panel = job.Panel;
            int inPlace = Math.Clamp(panel.HeadRows - p0, 0, args.K);
            panel.Head += p0 * panel.HeadStride;
            panel.Tail += (long)Math.Max(0, p0 - job.Panel.HeadRows) * panel.Width;
            panel.HeadRows = inPlace;
            narrow(args, panel, (T*)buffers.Tile, 0, args.M);
        }
    }

    /// <summary>
    /// How many of op(B)'s <paramref name="k"/> rows, <paramref name="ldb"/> apart and
    /// <paramref name="n"/> long, can be read <paramref name="width"/> elements at a time without
    /// passing B's last element: those with p·ldb + width ≤ (k - 1)·ldb + n.
    /// </summary>
    internal static int InPlaceRows(int k, int ldb, int n, int width)
    {
        long end = (long)(k - 1) * ldb + n;
        return end >= width ? (int)Math.Min(k, (end - width) / ldb + 1) : 0;
    }

    private static void RunNarrowPart(void* state, int part)
    {
        ref readonly NarrowJob job = ref Unsafe.AsRef<NarrowJob>(state);
        int start = part * job.Chunk;
        int count = Math.Min(job.Chunk, job.Args.M - start);
        if (count <= 0)
            return;
        var kernel = GemmKernelDescription<T>.For(job.Kernel);
        var buffers = GemmPacking<T>.Buffers;
        buffers.Ensure(0, 0, job.Vectors * kernel.Lanes);
        NarrowRows(job.Args, kernel, job.Vectors, job.Panel, (T*)buffers.Tile, start, count);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NarrowRows(in GemmArgs<T> args, GemmKernelDescription<T> kernel, int vectors, in NarrowPanel<T> panel, T* tile, int row0, int rows)
    {
        kernel.Narrow(vectors)(args, panel, tile, row0, rows);
        // After the kernel, not inside it: any more code around its accumulators made the JIT
        // spill all twelve of them to the stack on every step (2.4x slower).
        GemmEpilogue<T>.Finish(args, row0, rows, 0, args.N);
    }

    // The loops below (and the row and narrow paths above) are marked AggressiveOptimization: a
    // training run calls them a few hundred times a second, and with tiering they would spend the
    // first ~100 ms in unoptimized code (measured: about 125 against 205 GFLOP/s for
    // [128x784]·[784x256] in a short run). The row and narrow paths, once they called their kernels
    // through the description, also ran 15–20% slower after tiered PGO had recompiled them (one row
    // of 784 x 256 and [128x256]·[256x10] on a Zen 5 core; the same with DOTNET_TieredPGO=0).

    /// <summary>Computes the rows x cols block of C at (row0, col0) on this thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunBlock(in GemmArgs<T> args, GemmKernelDescription<T> kernel, int row0, int rows, int col0, int cols)
    {
        var blk = kernel.Blocking;
        int mr = blk.MR, nr = blk.NR;

        // Split K and M evenly rather than leaving a thin last block: a 16-deep remainder slice
        // would pay the full cost of loading and storing C for very little arithmetic.
        int kcStep = args.KcStep > 0 ? args.KcStep : SliceDepth(args.K, blk.KC);
        int mBlocks = (rows + blk.MC - 1) / blk.MC;
        int mcStep = RoundUp((rows + mBlocks - 1) / mBlocks, mr);
        int ncMax = Math.Min(blk.NC, RoundUp(cols, nr));

        var buffers = GemmPacking<T>.Buffers;
        buffers.Ensure(mcStep * kcStep, kcStep * ncMax, mr * nr);
        T* packA = (T*)buffers.A;
        T* packB = (T*)buffers.B;
        T* tile = (T*)buffers.Tile;

        bool gathered = args.AOffsets != null;
        bool inPlaceA = gathered ? args.AColumnsInTiles && kernel.CanReadAInPlace : ReadsAInPlace(args, kernel);
        var inPlaceLayout = gathered ? PanelLayoutKind.Gathered : args.TransA ? PanelLayoutKind.Transposed : PanelLayoutKind.RowMajor;
        for (int jc = 0; jc < cols; jc += ncMax)
        {
            int nc = Math.Min(ncMax, cols - jc);
            for (int pc = 0; pc < args.K; pc += kcStep)
            {
                int kc = Math.Min(kcStep, args.K - pc);
                bool add = args.Accumulate || pc > 0;
                bool last = pc + kc >= args.K;
                GemmPacking<T>.PackB(args, pc, kc, col0 + jc, nc, nr, packB);
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
                        if (left == 0 || kernel.ShortRows(left) == left)
                            packedFrom = mc;
                    }
                    if (packedFrom < mc)
                        GemmPacking<T>.PackA(args, row0 + ic + packedFrom, mc - packedFrom, pc, kc, mr, packA + (long)packedFrom * kc);
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int ncols = Math.Min(nr, nc - jr);
                        T* bPanel = packB + (long)jr * kc;
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            T* c = args.C + (long)(row0 + ic + ir) * args.Ldc + col0 + jc + jr;
                            int nrows = Math.Min(mr, mc - ir);
                            int kernelRows = kernel.ShortRows(nrows);
                            // A in place from row `row` of op(A) at depth pc, or the packed panel: same
                            // arithmetic either way, so the same bits.
                            int row = row0 + ic + ir;
                            bool inPlace = ir < packedFrom;
                            T* a = !inPlace ? packA + (long)ir * kc
                                : gathered ? args.A + args.AColumns[row]
                                : args.TransA ? args.A + (long)pc * args.Lda + row
                                : args.A + (long)row * args.Lda + pc;
                            nint lda = !inPlace ? 0 : gathered ? (nint)(args.AOffsets + pc) : args.Lda;
                            var micro = kernel.Tile(kernelRows, inPlace ? inPlaceLayout : PanelLayoutKind.Packed);
                            if (ncols == nr && kernelRows == nrows)
                            {
                                // A whole tile, or the last 8 or 4 rows for a kernel with short tiles: straight into C.
                                micro(kc, a, lda, bPanel, c, args.Ldc, add);
                            }
                            else
                            {
                                // Edge tile: compute the padded tile (or its first 4 or 8 rows) aside,
                                // then copy in what fits.
                                micro(kc, a, lda, bPanel, tile, nr, false);
                                for (int r = 0; r < nrows; r++)
                                {
                                    var src = new ReadOnlySpan<T>(tile + r * nr, ncols);
                                    var dst = new Span<T>(c + (long)r * args.Ldc, ncols);
                                    if (add)
                                        System.Numerics.Tensors.TensorPrimitives.Add(dst, src, dst);
                                    else
                                        src.CopyTo(dst);
                                }
                            }
                            if (last)
                                GemmEpilogue<T>.Finish(args, row, nrows, col0 + jc + jr, ncols);
                        }
                    }
                }
            }
        }
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
    /// land in one set (1024³ read in place: 1.08x the time). Not for a kernel that cannot (<see cref="GemmKernelDescription{T}.CanReadAInPlace"/>).
    /// </summary>
    internal static bool ReadsAInPlace(in GemmArgs<T> args, GemmKernelDescription<T> kernel)
    {
        if (!kernel.CanReadAInPlace)
            return false;
        const int sets = 64, lineBytes = 64;
        Span<byte> perSet = stackalloc byte[sets];
        long stride = (long)args.Lda * sizeof(T);
        // Row-major: the lines of the MR rows of a tile, at most two to a set. Transposed: the
        // lines of up to KC steps, at most twice as many to a set as an even spread would put there.
        int count = args.TransA ? Math.Min(kernel.KC, args.K) : kernel.MR;
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

    /// <summary>The depth of the blocked kernel's K slices for a product <paramref name="k"/> deep: K in equal slices of at most <paramref name="kc"/>.</summary>
    private static int SliceDepth(int k, int kc)
    {
        int slices = (k + kc - 1) / kc;
        return (k + slices - 1) / slices;
    }

    /// <summary>
    /// <c>C (+)= Aᵀ·op(B)</c> (<see cref="GemmArgs{T}.TransA"/> must be set; <c>args.A</c> is not read)
    /// where A, K x M, is never whole in memory: <paramref name="fill"/>(<paramref name="state"/>,
    /// p0, count) writes its rows p0 .. p0 + count - 1 (M values each, <c>args.Lda</c> apart) and
    /// returns where they are, a block of about <paramref name="blockDepth"/> rows at a time, each
    /// multiplied while in cache. The blocks are whole K slices of the product in one call, and
    /// each slice is summed from zero and added to C in turn either way, so C has the bits of the
    /// product in one call. Products that go to the narrow kernels, whose slices are deeper, take A
    /// in one block. A convolution's weight gradient X̂ᵀ·dY is such a product: its patch rows made
    /// a block at a time from the input, not read back from a whole batch's X̂ (29 MiB for the
    /// second layer of the Fashion-MNIST CNN at batch 128) streamed from memory.
    /// </summary>
    public static void RunMadeInDepthBlocks(in GemmArgs<T> args, int maxThreads, GemmKernel kernel, int blockDepth,
        delegate*<void*, int, int, T*> fill, void* state)
    {
        if (!args.TransA)
            throw new ArgumentException("A product made in depth blocks takes A stored transposed (K x M).", nameof(args));
        var (depth, kcStep) = Blocks(args, kernel, blockDepth);
        if (depth >= args.K)
        {
            var whole = args;
            whole.A = args.K > 0 && args.M > 0 && args.N > 0 ? fill(state, 0, args.K) : null;
            Run(whole, maxThreads, kernel);
            return;
        }
        for (int p0 = 0; p0 < args.K; p0 += depth)
        {
            var block = args;
            block.K = Math.Min(depth, args.K - p0);
            block.KcStep = kcStep;
            block.A = fill(state, p0, block.K);
            block.B += args.TransB ? p0 : (long)p0 * args.Ldb;
            block.Accumulate = args.Accumulate || p0 > 0;
            if (p0 + block.K < args.K)
            {
                // The bias and activation once C is whole.
                block.Bias = null;
                block.Activated = null;
                block.Mask = null;
                block.Activation = FusedActivation.None;
            }
            Run(block, maxThreads, kernel);
        }
    }

    /// <summary>
    /// The most rows of A that <see cref="RunMadeInDepthBlocks"/> asks for at once: whole K slices,
    /// as many as fit in <paramref name="blockDepth"/> (at least one), or all of K for a product the
    /// narrow kernels take.
    /// </summary>
    public static int BlockDepth(in GemmArgs<T> args, GemmKernel kernel, int blockDepth) => Blocks(args, kernel, blockDepth).Depth;

    /// <summary><see cref="BlockDepth"/> and the depth of the product's K slices (0 where A comes in one block).</summary>
    private static (int Depth, int KcStep) Blocks(in GemmArgs<T> args, GemmKernel kernel, int blockDepth)
    {
        var description = GemmKernelDescription<T>.For(kernel);
        if (args.M <= 0 || args.N <= 0 || args.K <= 0 || TakesNarrowKernel(args.M, args.N, args.K, description))
            return (args.K, 0);
        int kcStep = args.KcStep > 0 ? args.KcStep : SliceDepth(args.K, description.Blocking.KC);
        return ((int)Math.Min(args.K, (long)Math.Max(1, blockDepth / kcStep) * kcStep), kcStep);
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
