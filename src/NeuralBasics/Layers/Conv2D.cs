using System.Numerics;
using System.Runtime.CompilerServices;
using NeuralBasics.Components;
using NeuralBasics.Kernels;

namespace NeuralBasics.Layers;

/// <summary>
/// A 2-D convolution over channels-last images (<see cref="ImageShape"/>): each of
/// <see cref="Filters"/> filters of <see cref="KernelSize"/> x <see cref="KernelSize"/> x C weights
/// slides over the zero-padded image in steps of <see cref="Stride"/>, giving one output channel.
/// As <c>torch.nn.functional.conv2d</c> computes it (a cross-correlation), in the layout of Keras.
/// </summary>
/// <remarks>
/// <para>
/// Computed as one matrix product per batch (im2row): every output pixel's receptive field is
/// copied into a row of a (N·H'·W') x (k·k·C) matrix X̂, and <c>Y = X̂·W + b</c> with W the
/// (k·k·C) x filters weight matrix — rows in (dy, dx, c) order — so Y's rows are the output pixels
/// with their channels last, which is the output layout. Backward: <c>dW = X̂ᵀ·dY</c>,
/// <c>db = Σ dY</c> over pixels, <c>dX̂ = dY·Wᵀ</c>, and dX adds each row of dX̂ back over its field.
/// </para>
/// <para>
/// The batch goes through a chunk of images at a time (<see cref="DefaultChunkValues"/> patch values
/// among the cores), so a chunk of X̂ (or dX̂) stays in cache between being written and being read;
/// the cores take the chunks as they come free, each making its chunk's patches, multiplying them
/// and pooling or scattering the result on its own. The weight gradient makes X̂ again from the
/// input rather than keep it. The layer's buffers serve one pass at a time, so one instance serves
/// one thread; <see cref="Clone"/> gives another thread its own. Once its buffers have grown, a
/// pass allocates nothing.
/// </para>
/// </remarks>
public sealed class Conv2D<T> : ILayer<T>, IDescribedComponent, IOnnxNodes
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;
    // Line-aligned (AlignedMemory): the patch rows are copied and read by whole vectors.
    private Memory<T> _patches, _chunkOutput;

    /// <summary>
    /// A convolution of <paramref name="input"/> images with <paramref name="filters"/> filters of
    /// <paramref name="kernelSize"/> x <paramref name="kernelSize"/>, moved <paramref name="stride"/>
    /// pixels at a time over the image padded with <paramref name="padding"/> zeros on every side;
    /// weights from <paramref name="init"/> with fan-in k·k·C and fan-out k·k·filters (He for ReLU).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size below 1, negative padding, or a kernel larger than the padded image.</exception>
    public Conv2D(ImageShape input, int filters, int kernelSize, int stride, int padding, WeightInit init, int seed = 0, string namePrefix = "")
        : this(input, filters, kernelSize, stride, padding, namePrefix)
    {
        ArgumentNullException.ThrowIfNull(init);
        init.Fill(Weights.Value.Span, kernelSize * kernelSize * input.Channels, kernelSize * kernelSize * filters, new Random(seed));
    }

    private Conv2D(ImageShape input, int filters, int kernelSize, int stride, int padding, string namePrefix)
    {
        InputShape = input.Validated(nameof(input));
        Filters = Guard.AtLeast(filters, 1, "The number of filters");
        KernelSize = Guard.AtLeast(kernelSize, 1, "The kernel size");
        Stride = Guard.AtLeast(stride, 1, "The stride");
        Padding = Guard.AtLeast(padding, 0, "The padding");
        if (kernelSize > input.Height + 2 * padding || kernelSize > input.Width + 2 * padding)
            throw new ArgumentOutOfRangeException(nameof(kernelSize),
                $"A {kernelSize}x{kernelSize} kernel does not fit {input} padded with {padding} on every side.");
        OutputShape = new ImageShape(filters, (input.Height + 2 * padding - kernelSize) / stride + 1, (input.Width + 2 * padding - kernelSize) / stride + 1);
        Weights = new Parameter<T>(namePrefix + "W", new Matrix<T>(PatchSize, filters), isRegularized: true);
        Biases = new Parameter<T>(namePrefix + "b", new Matrix<T>(1, filters), isRegularized: false);
        _parameters = [Weights, Biases];
        _tapOffsets = new int[PatchSize];
        PoolGeometry.TapOffsets(_tapOffsets);
    }

    /// <summary>The shape of an input image.</summary>
    public ImageShape InputShape { get; }

    /// <summary>The shape of an output image: <see cref="Filters"/> channels, (H + 2p − k)/s + 1 by (W + 2p − k)/s + 1 pixels.</summary>
    public ImageShape OutputShape { get; }

    /// <summary>The number of filters, the output's channels.</summary>
    public int Filters { get; }

    /// <summary>The side of the square kernel.</summary>
    public int KernelSize { get; }

    /// <summary>The step between receptive fields, in pixels.</summary>
    public int Stride { get; }

    /// <summary>The zeros added on every side of the image.</summary>
    public int Padding { get; }

    /// <summary>W, (k·k·C) x filters, rows in (dy, dx, c) order.</summary>
    public Parameter<T> Weights { get; }

    /// <summary>b, 1 x filters.</summary>
    public Parameter<T> Biases { get; }

    /// <inheritdoc/>
    public int InputCount => InputShape.Count;

    /// <inheritdoc/>
    public int OutputCount => OutputShape.Count;

    /// <inheritdoc/>
    public IReadOnlyList<Parameter<T>> Parameters => _parameters;

    private int PatchSize => KernelSize * KernelSize * InputShape.Channels;

    private int Pixels => OutputShape.Height * OutputShape.Width;

    /// <summary>The patch values one image fills in X̂ (output pixels x k·k·C); the layer holds at most a chunk's (<see cref="ChunkValues"/>), never a batch's.</summary>
    internal long PatchValuesPerImage => (long)Pixels * PatchSize;

    /// <summary>
    /// The most patch values a chunk of images holds (4 MiB of floats): the batch is convolved a
    /// chunk at a time so its patch matrix stays in cache between being written and being read by
    /// the product. Fixed, not taken from the processor's caches, so results do not depend on them.
    /// </summary>
    internal const int DefaultChunkValues = 1 << 20;

    /// <summary>The chunk size this instance uses: <see cref="DefaultChunkValues"/>, smaller in tests that need several chunks.</summary>
    internal int ChunkValues { get; set; } = DefaultChunkValues;

    /// <summary>
    /// The images per chunk for a batch of <paramref name="images"/> split between
    /// <paramref name="threads"/> cores: equal chunks of at most <paramref name="chunkValues"/> /
    /// <paramref name="threads"/> patch values (at least one image), so that the chunks the cores
    /// hold at once come to a chunk's worth.
    /// </summary>
    private int ChunkImages(int images, int threads, int chunkValues)
    {
        int most = Math.Max(1, chunkValues / Math.Max(1, threads) / (Pixels * PatchSize));
        int chunks = (images + most - 1) / most;
        return Math.Max(1, (images + chunks - 1) / Math.Max(1, chunks));
    }

    /// <inheritdoc/>
    public void Forward(ReadOnlyMatrixSpan<T> input, MatrixSpan<T> output)
    {
        LayerChecks.Forward(this, input, output);
        ForwardChunks(input, output, default);
    }

    /// <summary>
    /// This layer's forward pass and a ReLU after it in one: <paramref name="output"/> = X̂W + b and
    /// <paramref name="activated"/> = max(0, X̂W + b), written as the product finishes each tile
    /// (<see cref="Sequential{T}"/> uses it for a convolution followed by ReLU, with
    /// <paramref name="activated"/> = <paramref name="output"/>: max(0, X̂W + b) in place). Same bits as apart.
    /// </summary>
    internal void ForwardRelu(ReadOnlyMatrixSpan<T> input, MatrixSpan<T> output, MatrixSpan<T> activated)
    {
        LayerChecks.Forward(this, input, output);
        ForwardChunks(input, output, activated);
    }

    private unsafe void ForwardChunks(ReadOnlyMatrixSpan<T> input, MatrixSpan<T> output, MatrixSpan<T> activated)
    {
        fixed (T* y = output.Span)
        fixed (T* relu = activated.Span)
            RunChunks(input, &ForwardChunk, y, relu, default, null);
    }

    /// <summary>A chunk of <see cref="Forward"/>: Y = X̂W + b (and the ReLU) into the layer's output.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ForwardChunk(ref ChunkJob job, int first, int count, int slot)
    {
        long at = (long)first * job.OutputsPerImage;
        Convolve(ref job, first, count, slot, job.Output + at, job.Activated == null ? null : job.Activated + at);
    }

    /// <summary>
    /// The chunk's patches into its slot's buffer, then its rows of Y = X̂W + b into <paramref name="y"/>
    /// and, where <paramref name="relu"/> is given (it may be <paramref name="y"/>), max(0, Y) into it.
    /// </summary>
    private static unsafe void Convolve(ref ChunkJob job, int first, int count, int slot, T* y, T* relu)
    {
        T* buffer = job.Patches(slot);
        var g = job.Geometry;
        int rows = count * g.PatchesPerImage, filters = job.Filters;
        PatchRows(job.Input, g, (long)first * g.PatchesPerImage, (long)(first + count) * g.PatchesPerImage, buffer);
        var product = new MatrixSpan<T>(new Span<T>(y, rows * filters), rows, filters);
        var activated = relu == null ? default : new MatrixSpan<T>(new Span<T>(relu, rows * filters), rows, filters);
        Gemm.MultiplyAddBias(new ReadOnlyMatrixSpan<T>(new ReadOnlySpan<T>(buffer, rows * g.PatchSize), rows, g.PatchSize), job.WeightMatrix, job.BiasRow, product,
            relu == null ? FusedActivation.None : FusedActivation.Relu, activated, maxDegreeOfParallelism: job.ProductThreads);
    }

    /// <summary>
    /// The state of a pass that goes through the batch a chunk of images at a time: the cores take
    /// the chunks as they come free, each with a buffer of its own (<see cref="KernelThreads.Slot"/>)
    /// and products on its own core, so a chunk's patches stay in the cache of the core that made
    /// them and no core waits for the other between the steps of a chunk.
    /// </summary>
    private unsafe struct ChunkJob
    {
        public delegate*<ref ChunkJob, int, int, int, void> Body;
        public T* Input, Output, Activated, Weights, Bias, Gradient, Buffers, Outputs;
        public ulong* Winners;
        public int Images, Chunk, Filters, OutputsPerImage;
        /// <summary>The cores each chunk's products may use: 1 where the chunks are split between the cores, 0 (all) where there are fewer chunks than cores.</summary>
        public int ProductThreads;
        public Geometry Geometry;
        public ConvPoolGeometry Pool;

        public readonly ReadOnlyMatrixSpan<T> WeightMatrix => new(new ReadOnlySpan<T>(Weights, Geometry.PatchSize * Filters), Geometry.PatchSize, Filters);

        public readonly ReadOnlySpan<T> BiasRow => new(Bias, Filters);

        /// <summary>The patch buffer of <paramref name="slot"/>: a chunk's patch values.</summary>
        public readonly T* Patches(int slot) => Buffers + (long)slot * Chunk * Geometry.PatchesPerImage * Geometry.PatchSize;
    }

    /// <summary>
    /// Runs <paramref name="body"/> over the batch a chunk of images at a time (<see cref="ChunkJob"/>),
    /// the chunks split between the cores; each core's buffers (<see cref="KernelThreads.Slot"/>)
    /// hold a chunk's patch values, and its output where <paramref name="keepsOutput"/>. The results
    /// do not depend on the chunks or on which core takes which: every row of a product has the same
    /// bits whatever rows are multiplied with it, and each image is written by one chunk.
    /// </summary>
    private unsafe void RunChunks(ReadOnlyMatrixSpan<T> input, delegate*<ref ChunkJob, int, int, int, void> body, T* output, T* activated, ReadOnlyMatrixSpan<T> gradient, ulong* winners,
        bool keepsOutput = false, int chunkValues = 0)
    {
        int images = input.Rows;
        if (images == 0)
            return;
        int threads = KernelThreads.DefaultParallelism, chunk = ChunkImages(images, threads, chunkValues > 0 ? chunkValues : ChunkValues);
        int chunks = (images + chunk - 1) / chunk;
        // Fewer chunks than cores (a small batch): one chunk at a time, its products on every core.
        if (chunks < threads)
            threads = 1;
        var buffers = GrowAligned(ref _patches, checked(threads * chunk * Pixels * PatchSize));
        var outputs = keepsOutput ? GrowAligned(ref _chunkOutput, checked(threads * chunk * OutputCount)) : default;
        fixed (T* x = input.Span)
        fixed (T* w = Weights.Value.Span)
        fixed (T* b = Biases.Value.Span)
        fixed (T* dy = gradient.Span)
        fixed (T* buffer = buffers)
        fixed (T* output0 = outputs)
        {
            var job = new ChunkJob
            {
                Body = body, Input = x, Output = output, Activated = activated, Weights = w, Bias = b, Gradient = dy, Buffers = buffer, Outputs = output0, Winners = winners,
                Images = images, Chunk = chunk, Filters = Filters, OutputsPerImage = OutputCount, Geometry = Shape, Pool = PoolGeometry,
                ProductThreads = threads > 1 ? 1 : 0,
            };
            if (threads == 1)
            {
                for (int first = 0; first < images; first += chunk)
                    body(ref job, first, Math.Min(chunk, images - first), 0);
            }
            else
            {
                KernelThreads.Run(&RunChunk, &job, chunks, threads);
            }
        }
    }

    private static unsafe void RunChunk(void* state, int part)
    {
        ref var job = ref *(ChunkJob*)state;
        int first = part * job.Chunk;
        job.Body(ref job, first, Math.Min(job.Chunk, job.Images - first), KernelThreads.Slot);
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlyMatrixSpan<T> input, ReadOnlyMatrixSpan<T> output, ReadOnlyMatrixSpan<T> outputGradient, MatrixSpan<T> inputGradient)
    {
        LayerChecks.Backward(this, input, output, outputGradient, inputGradient);
        Gradients(input, new ReadOnlyMatrixSpan<T>(outputGradient.Span, checked(input.Rows * Pixels), Filters), inputGradient);
    }

    /// <summary>
    /// The most patch values the backward pass makes at a time — the weight gradient's blocks of X̂
    /// where it makes them, the input gradient's chunks of dX̂: a chunk's (<see cref="ChunkValues"/>),
    /// or on one core at most its level-2 cache's worth. Neither changes the bits, so they may follow
    /// the cache. For conv2 of the Fashion-MNIST CNN on a Zen 5 core (1 MiB of L2), 768 rows a block
    /// took the backward pass 0.94–0.95x the time of 3,584 rows (4 MiB) on one thread; on two,
    /// 1.01–1.14x (the least of each run, alternated): each core makes half the rows and reads all of
    /// them, the other half from the other core, so there the blocks stay a chunk. dX̂ in chunks of
    /// 4 images (903 KiB) instead of 16 (3.6 MiB), its scatter reading it from L2: the backward pass
    /// 0.966x the time on one core (ten alternated pairs, median of the ratios). Not the forward
    /// pass's chunks: 4 images took it 1.04x the time (eight pairs; smaller products).
    /// </summary>
    private int BlockValues => KernelThreads.DefaultParallelism == 1
        ? Math.Min(ChunkValues, ProcessorInfo.L2CacheBytes / Unsafe.SizeOf<T>())
        : ChunkValues;

    /// <summary>
    /// The gradients from the input and the output gradient <paramref name="dy"/> (pixels x filters):
    /// dW = X̂ᵀ·dY with X̂ read from the padded images where it lies (<see cref="GathersWeightGradient"/>),
    /// or else with X̂'s rows made again from the input a block at a time, each multiplied while in
    /// cache (<see cref="Gemm.MultiplyTransposeAMadeInBlocks"/>); either way the bits of the product
    /// over the whole X̂. Keeping the forward pass's X̂ instead meant reading it back from memory: for
    /// the second layer of the Fashion-MNIST CNN (batch 128, 29 MiB of patches) the product ran at
    /// 59% of one core's FMA peak against 90% with X̂ in cache, and each layer held its batch's X̂.
    /// </summary>
    private unsafe void Gradients(ReadOnlyMatrixSpan<T> input, ReadOnlyMatrixSpan<T> dy, MatrixSpan<T> inputGradient)
    {
        int images = input.Rows, rows = dy.Rows;
        if (GathersWeightGradient(rows))
        {
            Gemm.MultiplyTransposeAGathered(PaddedImages(input), PixelOffsets(images), _tapOffsets, dy, Weights.Gradient.AsSpan());
        }
        else
        {
            int depth = Gemm.MadeInBlocksDepth<T>(PatchSize, Filters, rows, Math.Max(1, BlockValues / PatchSize));
            var buffer = GrowAligned(ref _patches, checked(depth * PatchSize));
            fixed (T* x = input.Span)
            fixed (T* block = buffer)
            {
                var job = new PatchJob { Images = x, Patches = block, Geometry = Shape };
                Gemm.MultiplyTransposeAMadeInBlocks(PatchSize, dy, Weights.Gradient.AsSpan(), depth, &FillPatchRows, &job);
            }
        }
        RowOps.ColumnSumsInSlices(dy, Biases.Gradient.Span, Grow(ref _biasSlice, Filters));
        InputGradient(input, dy, inputGradient);
    }

    /// <summary>
    /// Whether dW = X̂ᵀ·dY reads X̂ from the zero-padded images where it lies
    /// (<see cref="Gemm.MultiplyTransposeAGathered"/>: step p at output pixel p's receptive field,
    /// column (ky, kx, c) at ky padded rows and kx pixels past it) instead of making X̂'s rows a
    /// block at a time: when the blocked kernel takes the product and reads every tile of taps in
    /// place (a kernel row's taps, K·C of them, a whole number of tiles). Same bits either way. For
    /// conv2 of the Fashion-MNIST CNN (batch 128) the patches were 29 MiB written and read back a
    /// pass, against 3.2 MiB of images padded to 4.2 MiB: dW alone (<c>BackwardPooled</c> without
    /// dX, AMD EPYC Zen 5, least of each run, alternated pairs) 0.92x the time on two cores, 0.95x on
    /// one, 0.96x at AVX2 (a proxy). Not on the 128-bit kernels: on the same machine with AVX2 off
    /// (which turns off FMA too) it took 1.07–1.17x the time of patches made in cache (five pairs),
    /// the gathered step's three integer instructions added to a loop bound by what it issues; they
    /// keep making them until a machine of their own (Arm64, with FMA) says otherwise.
    /// </summary>
    private bool GathersWeightGradient(int rows) =>
        GemmKernelDescription<T>.Best.VectorBits >= 256
        && Gemm.GathersProduct<T>(PatchSize, Filters, rows) && Gemm.ReadsGatheredInPlace<T>(_tapOffsets);

    /// <summary>Where tap (ky, kx, c) of a receptive field lies in the padded image from the field's corner.</summary>
    private readonly int[] _tapOffsets;

    private int[] _pixelOffsets = [];

    /// <summary>
    /// Where each output pixel's receptive field starts in the padded images of a batch of
    /// <paramref name="images"/> (image by image, row by row): the first images' offsets do not
    /// depend on the batch, so the table is made for the largest batch yet and a smaller one takes
    /// its start (an epoch's last, shorter batch allocates nothing).
    /// </summary>
    private ReadOnlySpan<int> PixelOffsets(int images)
    {
        var g = PoolGeometry;
        int length = checked(images * g.Pixels);
        if (_pixelOffsets.Length < length)
        {
            var offsets = new int[length];
            int i = 0;
            for (int n = 0; n < images; n++)
                for (int oy = 0; oy < g.OutHeight; oy++)
                    for (int ox = 0; ox < g.OutWidth; ox++)
                        offsets[i++] = checked(n * g.PaddedLength + (oy * g.PaddedWidth + ox) * g.Stride * g.Channels);
            _pixelOffsets = offsets;
        }
        return _pixelOffsets.AsSpan(0, length);
    }

    /// <summary>
    /// The batch's images with <see cref="Padding"/> zeros around each (the images themselves without
    /// padding), in the buffer the one-pass kernel pads them into (<see cref="_padded"/>).
    /// </summary>
    private unsafe ReadOnlySpan<T> PaddedImages(ReadOnlyMatrixSpan<T> input)
    {
        if (Padding == 0)
            return input.Span;
        int paddedImage = PoolGeometry.PaddedLength;
        var padded = Grow(ref _padded, checked(input.Rows * paddedImage));
        fixed (T* x = input.Span)
        fixed (T* to = padded)
        {
            // The job's patch pointer is the padded images' here.
            var job = new PatchJob { Images = x, Patches = to, Geometry = Shape };
            RowRanges.Run(&PadImages, &job, input.Rows, paddedImage);
        }
        return padded;
    }

    /// <summary>Images <paramref name="first"/> .. <paramref name="end"/> - 1 of the job's batch copied inside their frames of zeros.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void PadImages(void* state, int first, int end)
    {
        ref var job = ref *(PatchJob*)state;
        var g = job.Geometry;
        int rowLength = g.Width * g.Channels, paddedRow = rowLength + 2 * g.Padding * g.Channels;
        int paddedImage = (g.Height + 2 * g.Padding) * paddedRow;
        for (int n = first; n < end; n++)
        {
            T* from = job.Images + (long)n * g.ImageLength;
            T* to = job.Patches + (long)n * paddedImage + (g.Padding * paddedRow + g.Padding * g.Channels);
            for (int y = 0; y < g.Height; y++, from += rowLength, to += paddedRow)
                ShortRuns<T>.Copy(from, to, rowLength);
        }
    }

    /// <summary>dX from the output gradient <paramref name="dy"/> (pixels x filters); nothing when <paramref name="inputGradient"/> is empty.</summary>
    private unsafe void InputGradient(ReadOnlyMatrixSpan<T> input, ReadOnlyMatrixSpan<T> dy, MatrixSpan<T> inputGradient)
    {
        if (inputGradient.IsEmpty)
            return;
        fixed (T* dx = inputGradient.Span)
            RunChunks(input, &InputGradientChunk, dx, null, dy, null, chunkValues: BlockValues);
    }

    /// <summary>A chunk of dX: dX̂ = dY·Wᵀ for its pixels, each row added back over its receptive field while in cache.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void InputGradientChunk(ref ChunkJob job, int first, int count, int slot)
    {
        T* buffer = job.Patches(slot);
        var g = job.Geometry;
        int rows = count * g.PatchesPerImage, filters = job.Filters;
        var dy = new ReadOnlyMatrixSpan<T>(new ReadOnlySpan<T>(job.Gradient + (long)first * g.PatchesPerImage * filters, rows * filters), rows, filters);
        Gemm.MultiplyTransposeB(dy, job.WeightMatrix, new MatrixSpan<T>(new Span<T>(buffer, rows * g.PatchSize), rows, g.PatchSize), maxDegreeOfParallelism: job.ProductThreads);
        FromPatchRows(buffer, job.Output, g, first, first + count);
    }

    /// <summary>
    /// Up to this many taps (k·k·C, the depth of the product) a convolution followed by ReLU and 2 x 2
    /// max-pooling runs through the one-pass kernel (<see cref="ConvReluPool{T}"/>): below it, the GEMM
    /// would do fewer multiply-adds per output value than it takes to write the value and read it
    /// back for the pooling. A shape's property, not the processor's: 3x3 or 5x5 kernels over one to
    /// seven channels. Deeper ones go through the GEMM, a chunk of images at a time, each pooled while in cache.
    /// </summary>
    internal const int PooledPassTaps = 64;

    /// <summary>
    /// Whether this layer, the ReLU after it and <paramref name="pool"/> after that can run as one
    /// pass: 2 x 2 pooling that tiles the output, float or double in vectors, filters a multiple of
    /// the vector's lanes. Few taps (<see cref="PooledPassTaps"/>) go through the one-pass kernel;
    /// more through the GEMM a chunk of images at a time, each chunk pooled while in cache.
    /// </summary>
    internal bool CanPoolInPass(MaxPool2D<T> pool) =>
        pool.Size == 2 && pool.InputShape == OutputShape && OutputShape.Height % 2 == 0 && OutputShape.Width % 2 == 0
        && ConvReluPool<T>.IsSupported && Filters % ConvReluPool<T>.Lanes == 0;

    /// <summary>Whether the pooled pass goes through the one-pass kernel (few taps) rather than the GEMM.</summary>
    private bool PoolsInKernel => PatchSize <= PooledPassTaps;

    /// <summary>
    /// The batch's images padded: by the one-pass kernel's forward pass, or for the weight gradient
    /// read where it lies (<see cref="PaddedImages"/>). Both write only the insides, so the frames
    /// stay the zeros the array was made with.
    /// </summary>
    private T[] _padded = [];
    private ulong[] _winners = [];
    private int _pooledImages = -1;

    private ConvPoolGeometry PoolGeometry => new(InputShape.Channels, InputShape.Height + 2 * Padding, InputShape.Width + 2 * Padding,
        KernelSize, Stride, OutputShape.Height, OutputShape.Width, Filters);

    /// <summary>The values a batch row keeps in the pooled pass: the padded image through the one-pass kernel, none through the GEMM (the winners are bits).</summary>
    internal long PooledValuesPerImage => PoolsInKernel ? PoolGeometry.PaddedLength : 0;

    /// <summary>
    /// This layer, a ReLU and 2 x 2 max-pooling in one pass (<see cref="CanPoolInPass"/> must hold):
    /// <paramref name="pooled"/> = maxpool(max(0, X̂W + b)), the same bits as the three layers apart,
    /// without keeping the convolution's output (at most a chunk of it, in cache); which pixel won
    /// each block is kept for <see cref="BackwardPooled"/>.
    /// </summary>
    internal unsafe void ForwardPooled(ReadOnlyMatrixSpan<T> input, MatrixSpan<T> pooled)
    {
        if (input.Columns != InputCount || pooled.Rows != input.Rows || pooled.Columns != OutputCount / 4)
            throw new ArgumentException($"{this}: the pooled pass takes {InputCount} inputs and gives {OutputCount / 4} values a row, not {input.ToString()} and {pooled.ToString()}.");
        var g = PoolGeometry;
        int images = input.Rows, winners = checked(images * ConvReluPool<T>.WinnersPerImage(g));
        if (_winners.Length < winners)
            _winners = new ulong[winners];
        _pooledImages = -1;
        if (PoolsInKernel)
        {
            // Only the interior is written, so the border stays the zeros the array was made with.
            var padded = Grow(ref _padded, checked(images * g.PaddedLength));
            fixed (T* x = input.Span)
            fixed (T* p = padded)
            fixed (T* w = Weights.Value.Span)
            fixed (T* b = Biases.Value.Span)
            fixed (T* y = pooled.Span)
            fixed (ulong* won = _winners)
                ConvReluPool<T>.Forward(x, InputShape.Height, InputShape.Width, Padding, p, w, b, y, won, g, images);
        }
        else
        {
            ForwardPooledByGemm(input, pooled);
        }
        _pooledImages = images;
    }

    /// <summary>
    /// The pooled pass through the GEMM: a chunk of images at a time, max(0, X̂W + b) into a chunk
    /// buffer, then pooled from it while in cache; the layer's whole output is never written.
    /// </summary>
    private unsafe void ForwardPooledByGemm(ReadOnlyMatrixSpan<T> input, MatrixSpan<T> pooled)
    {
        fixed (T* to = pooled.Span)
        fixed (ulong* won = _winners)
            RunChunks(input, &ForwardPooledChunk, to, null, default, won, keepsOutput: true);
    }

    /// <summary>A chunk of <see cref="ForwardPooledByGemm"/>: max(0, X̂W + b) into its slot's output buffer, then pooled from there.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ForwardPooledChunk(ref ChunkJob job, int first, int count, int slot)
    {
        T* values = job.Outputs + (long)slot * job.Chunk * job.OutputsPerImage;
        Convolve(ref job, first, count, slot, values, values);
        ConvReluPool<T>.Pool(values, job.Output + (long)first * job.Pool.PooledLength, job.Winners + (long)first * ConvReluPool<T>.WinnersPerImage(job.Pool), job.Pool, count);
    }

    /// <summary>
    /// The backward pass of <see cref="ForwardPooled"/>: from the pooled gradient, the gradient of
    /// the ReLU's input at each block's winner (into <paramref name="outputGradient"/>, this layer's
    /// output size), then this layer's weight, bias and input gradients. Same bits as the layers apart.
    /// </summary>
    internal unsafe void BackwardPooled(ReadOnlyMatrixSpan<T> input, ReadOnlyMatrixSpan<T> pooledGradient, MatrixSpan<T> outputGradient, MatrixSpan<T> inputGradient)
    {
        int images = input.Rows;
        if (images != _pooledImages)
            throw new InvalidOperationException($"{this}: the pooled backward pass needs the pooled forward pass of the same batch first.");
        if (pooledGradient.Rows != images || pooledGradient.Columns != OutputCount / 4 || outputGradient.Rows != images || outputGradient.Columns != OutputCount)
            throw new ArgumentException($"{this}: the pooled gradient {pooledGradient.ToString()} or the output gradient {outputGradient.ToString()} does not fit {images} images.");
        var g = PoolGeometry;
        var dy = new ReadOnlyMatrixSpan<T>(outputGradient.Span, images * Pixels, Filters);
        if (!PoolsInKernel || !ConvReluPool<T>.HasWeightGradient(g, images))
        {
            // Through the GEMM (for the one-pass kernel, a batch whose X̂ᵀ·dY the GEMM sums in blocks of its own, for its bits).
            Expand(pooledGradient, outputGradient, g, images);
            Gradients(input, dy, inputGradient);
            return;
        }
        var scratch = Grow(ref _scratch, checked((int)ConvReluPool<T>.WeightGradientScratch(g, images)));
        fixed (T* p = _padded)
        fixed (ulong* won = _winners)
        fixed (T* up = pooledGradient.Span)
        fixed (T* dw = Weights.Gradient.Span)
        fixed (T* db = Biases.Gradient.Span)
        fixed (T* work = scratch)
            ConvReluPool<T>.WeightGradient(p, won, up, dw, db, work, g, images);
        if (inputGradient.IsEmpty)
            return;
        Expand(pooledGradient, outputGradient, g, images);
        InputGradient(input, dy, inputGradient);
    }

    private T[] _scratch = [], _biasSlice = [];

    /// <summary>The convolution's output gradient from the pooled gradient and the winners of the last pooled pass.</summary>
    private unsafe void Expand(ReadOnlyMatrixSpan<T> pooledGradient, MatrixSpan<T> outputGradient, in ConvPoolGeometry g, int images)
    {
        fixed (T* up = pooledGradient.Span)
        fixed (ulong* won = _winners)
        fixed (T* dense = outputGradient.Span)
            ConvReluPool<T>.ExpandGradient(up, won, dense, g, images);
    }

    /// <summary>The first <paramref name="length"/> values of <paramref name="buffer"/>, grown (never shrunk) to hold them.</summary>
    private static Span<T> Grow(ref T[] buffer, int length)
    {
        if (buffer.Length < length)
            buffer = new T[length];
        return buffer.AsSpan(0, length);
    }

    /// <summary>The first <paramref name="length"/> values of <paramref name="buffer"/>, grown (never shrunk) to hold them, line-aligned from 85,000 bytes (<see cref="AlignedMemory"/>).</summary>
    private static Span<T> GrowAligned(ref Memory<T> buffer, int length)
    {
        if (buffer.Length < length)
            buffer = AlignedMemory.Allocate<T>(length);
        return buffer.Span[..length];
    }

    /// <summary>The sizes the patch loops need, copied into their job.</summary>
    private readonly record struct Geometry(int Channels, int Height, int Width, int Kernel, int Stride, int Padding, int OutHeight, int OutWidth)
    {
        public int ImageLength => Channels * Height * Width;

        public int PatchSize => Kernel * Kernel * Channels;

        public int PatchesPerImage => OutHeight * OutWidth;

        /// <summary>
        /// The receptive field of output pixel (<paramref name="oy"/>, <paramref name="ox"/>): its top-left
        /// corner in the image (negative inside the padding) and the kernel columns [Left, Right) that fall inside the image.
        /// </summary>
        public (int Y0, int X0, int Left, int Right) Field(int oy, int ox)
        {
            int y0 = oy * Stride - Padding, x0 = ox * Stride - Padding;
            return (y0, x0, Math.Max(0, -x0), Math.Min(Kernel, Width - x0));
        }
    }

    private Geometry Shape => new(InputShape.Channels, InputShape.Height, InputShape.Width, KernelSize, Stride, Padding, OutputShape.Height, OutputShape.Width);

    private unsafe struct PatchJob
    {
        public T* Images;
        public T* Patches;
        public Geometry Geometry;
        /// <summary>The first of X̂'s rows (output pixels of the batch, image by image) that <see cref="Patches"/> holds, for <see cref="FillPatchRows"/>.</summary>
        public int FirstRow;
    }

    // The parts below are compiled optimized from their first call, as the kernels are: otherwise
    // their loops start in tier-0 code and move to on-stack-replaced code, which a profile of
    // conv2's backward pass still showed running after thousands of calls.
    /// <summary>
    /// The fill of <see cref="Gemm.MultiplyTransposeAMadeInBlocks"/>: X̂'s rows <paramref name="first"/>
    /// .. + <paramref name="count"/> - 1 into the job's buffer, split between the cores.
    /// </summary>
    private static unsafe T* FillPatchRows(void* state, int first, int count)
    {
        ref var job = ref *(PatchJob*)state;
        job.FirstRow = first;
        RowRanges.Run(&PatchRowsPart, state, count, job.Geometry.PatchSize);
        return job.Patches;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void PatchRowsPart(void* state, int first, int end)
    {
        ref var job = ref *(PatchJob*)state;
        var g = job.Geometry;
        PatchRows(job.Images, g, (long)job.FirstRow + first, (long)job.FirstRow + end, job.Patches + (long)first * g.PatchSize);
    }

    /// <summary>
    /// X̂'s rows <paramref name="first"/> .. <paramref name="end"/> - 1 of the batch at
    /// <paramref name="images"/> (each output pixel's receptive field, zeros where it covers the
    /// padding; row r is pixel r mod P of image r / P) into <paramref name="to"/>, one after another.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void PatchRows(T* images, in Geometry g, long first, long end, T* to)
    {
        if (first >= end)
            return;
        int run = g.Kernel * g.Channels, pixel = (int)(first % g.PatchesPerImage);
        int oy = pixel / g.OutWidth, ox = pixel % g.OutWidth;
        T* image = images + first / g.PatchesPerImage * g.ImageLength;
        for (long r = first; r < end; r++, to += g.PatchSize)
        {
            var (y0, x0, left, right) = g.Field(oy, ox);
            for (int dy = 0; dy < g.Kernel; dy++)
            {
                T* row = to + dy * run;
                int iy = y0 + dy;
                if (iy < 0 || iy >= g.Height || right <= left)
                {
                    ShortRuns<T>.Clear(row, run);
                    continue;
                }
                ShortRuns<T>.Clear(row, left * g.Channels);
                ShortRuns<T>.Copy(image + (iy * g.Width + x0 + left) * g.Channels, row + left * g.Channels, (right - left) * g.Channels);
                ShortRuns<T>.Clear(row + right * g.Channels, (g.Kernel - right) * g.Channels);
            }
            if (++ox == g.OutWidth)
            {
                ox = 0;
                if (++oy == g.OutHeight)
                {
                    oy = 0;
                    image += g.ImageLength;
                }
            }
        }
    }

    /// <summary>
    /// dX of images <paramref name="first"/> .. <paramref name="end"/> - 1 (into <paramref name="images"/>,
    /// the batch's input gradient) from their rows of dX̂ at <paramref name="patches"/>: each row added
    /// back over its receptive field, the padding's share dropped.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void FromPatchRows(T* patches, T* images, in Geometry g, int first, int end)
    {
        int run = g.Kernel * g.Channels;
        T* patch = patches;
        for (int n = first; n < end; n++)
        {
            T* image = images + (long)n * g.ImageLength;
            ShortRuns<T>.Clear(image, g.ImageLength);
            for (int oy = 0; oy < g.OutHeight; oy++)
            {
                for (int ox = 0; ox < g.OutWidth; ox++, patch += g.PatchSize)
                {
                    var (y0, x0, left, right) = g.Field(oy, ox);
                    if (right <= left)
                        continue;
                    for (int dy = 0; dy < g.Kernel; dy++)
                    {
                        int iy = y0 + dy;
                        if (iy < 0 || iy >= g.Height)
                            continue;
                        ShortRuns<T>.Add(patch + dy * run + left * g.Channels, image + (iy * g.Width + x0 + left) * g.Channels, (right - left) * g.Channels);
                    }
                }
            }
        }
    }

    /// <inheritdoc/>
    public string Kind => "conv2d";

    /// <inheritdoc/>
    public void Describe(ComponentDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        InputShape.Describe(description);
        description.Set("filters", Filters);
        description.Set("kernel", KernelSize);
        description.Set("stride", Stride);
        description.Set("padding", Padding);
        description.Set("prefix", Weights.Name[..^1]);
    }

    /// <summary>
    /// One Conv node (opset 13: kernel, strides, pads; weights as filters x C x k x k), between the
    /// reshapes and transposes that take the flat channels-last rows to NCHW and back.
    /// </summary>
    public string AddOnnxNodes(IOnnxGraph graph, string input, string output)
    {
        ArgumentNullException.ThrowIfNull(graph);
        int k = KernelSize, c = InputShape.Channels;
        var w = Weights.Value.Span;
        var filters = new T[Filters * c * k * k];
        for (int f = 0; f < Filters; f++)
            for (int ch = 0; ch < c; ch++)
                for (int dy = 0; dy < k; dy++)
                    for (int dx = 0; dx < k; dx++)
                        filters[((f * c + ch) * k + dy) * k + dx] = w[((dy * k + dx) * c + ch) * Filters + f];
        string weights = graph.Initializer<T>(Weights.Name, [Filters, c, k, k], filters);
        string biases = graph.Initializer<T>(Biases.Name, [Filters], Biases.Value.Span);
        return ChannelsLastOnnx.Wrap(graph, input, output, InputShape, OutputShape, nchw =>
            graph.Node("Conv", [nchw, weights, biases], $"{output}.conv", OnnxAttribute.Ints("kernel_shape", k, k),
                OnnxAttribute.Ints("strides", Stride, Stride), OnnxAttribute.Ints("pads", Padding, Padding, Padding, Padding)));
    }

    /// <summary>A deep copy: same values, its own gradients and buffers.</summary>
    public Conv2D<T> Clone()
    {
        var copy = new Conv2D<T>(InputShape, Filters, KernelSize, Stride, Padding, Weights.Name[..^1]);
        Weights.Value.Span.CopyTo(copy.Weights.Value.Span);
        Biases.Value.Span.CopyTo(copy.Biases.Value.Span);
        return copy;
    }

    ILayer<T> ILayer<T>.Clone() => Clone();

    /// <summary>Reads a layer written by <see cref="Describe"/> (its values come from the model file).</summary>
    internal static Conv2D<T> Read(ComponentDescription description) =>
        new(ImageShape.Read(description), description.Count("filters"),
            description.Count("kernel"), description.Count("stride"), description.Count("padding", minimum: 0), description.Text("prefix"));

    /// <inheritdoc/>
    public override string ToString() =>
        $"Conv2D({InputShape.Channels}x{InputShape.Height}x{InputShape.Width} -> {Filters}x{OutputShape.Height}x{OutputShape.Width}, " +
        $"{KernelSize}x{KernelSize}, stride {Stride}, padding {Padding})";
}

/// <summary>Reads a <see cref="Conv2D{T}"/> layer.</summary>
internal sealed class Conv2DReader : ILayerReader
{
    public IEnumerable<ParameterShape> Parameters(ComponentDescription description)
    {
        string prefix = description.Text("prefix");
        int filters = description.Count("filters"), kernel = description.Count("kernel");
        return [new(prefix + "W", kernel * kernel * description.Count("channels"), filters), new(prefix + "b", 1, filters)];
    }

    public ILayer<T> Read<T>(ComponentDescription description)
        where T : unmanaged, IFloatingPointIeee754<T> => Conv2D<T>.Read(description);
}
