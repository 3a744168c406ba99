using System.Numerics;
using System.Numerics.Tensors;
using NeuralBasics.Components;
using NeuralBasics.Kernels;

namespace NeuralBasics.Layers;

/// <summary>
/// Max pooling over channels-last images (<see cref="ImageShape"/>): each channel of each
/// <see cref="Size"/> x <see cref="Size"/> block of pixels, side by side without overlap, becomes
/// its largest value; rows and columns left over at the bottom and right are dropped, as
/// <c>torch.nn.functional.max_pool2d(x, size)</c> does. A NaN wins its block. Backward: each output's
/// gradient goes to the input that won its block (the first in reading order among equals).
/// </summary>
/// <remarks>It keeps nothing between passes: the backward pass finds each block's winner from the input and output it is given.</remarks>
public sealed class MaxPool2D<T> : ILayer<T>, IDescribedComponent, IOnnxNodes
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Pools <paramref name="input"/> images in blocks of <paramref name="size"/> x <paramref name="size"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size below 1, or larger than the image.</exception>
    public MaxPool2D(ImageShape input, int size)
    {
        InputShape = input.Validated(nameof(input));
        Size = Guard.AtLeast(size, 1, "The pool size");
        if (size > input.Height || size > input.Width)
            throw new ArgumentOutOfRangeException(nameof(size), $"A {size}x{size} pool does not fit {input}.");
        OutputShape = input with { Height = input.Height / size, Width = input.Width / size };
    }

    /// <summary>The shape of an input image.</summary>
    public ImageShape InputShape { get; }

    /// <summary>The shape of an output image: the same channels, H/size by W/size pixels (rounded down).</summary>
    public ImageShape OutputShape { get; }

    /// <summary>The side of a block, and the step between blocks.</summary>
    public int Size { get; }

    /// <inheritdoc/>
    public int InputCount => InputShape.Count;

    /// <inheritdoc/>
    public int OutputCount => OutputShape.Count;

    /// <inheritdoc/>
    public IReadOnlyList<Parameter<T>> Parameters => [];

    /// <inheritdoc/>
    public unsafe void Forward(ReadOnlyMatrixSpan<T> input, MatrixSpan<T> output)
    {
        LayerChecks.Forward(this, input, output);
        fixed (T* images = input.Span)
        fixed (T* pooled = output.Span)
        {
            var job = new Job { Images = images, Pooled = pooled, Geometry = Shape };
            RowRanges.Run(&ForwardPart, &job, input.Rows, InputCount);
        }
    }

    /// <inheritdoc/>
    /// <remarks>The winner of each block is found again from <paramref name="input"/> and <paramref name="output"/>: the first value in reading order equal to the block's maximum.</remarks>
    public void Backward(ReadOnlyMatrixSpan<T> input, ReadOnlyMatrixSpan<T> output, ReadOnlyMatrixSpan<T> outputGradient, MatrixSpan<T> inputGradient) =>
        BackwardCore(input, output, outputGradient, inputGradient, throughRelu: false);

    /// <summary>
    /// <see cref="Backward"/> followed, in the same pass, by the backward pass of the ReLU whose
    /// output <paramref name="input"/> is: the gradient goes to a block's winner only where the
    /// block's maximum is above zero — exactly where the ReLU passes it — so
    /// <paramref name="reluInputGradient"/> is dL/d(the ReLU's input). Same bits as the two apart
    /// (<see cref="Sequential{T}"/> uses it for ReLU → max-pooling).
    /// </summary>
    internal void BackwardThroughRelu(ReadOnlyMatrixSpan<T> input, ReadOnlyMatrixSpan<T> output, ReadOnlyMatrixSpan<T> outputGradient,
        MatrixSpan<T> reluInputGradient) => BackwardCore(input, output, outputGradient, reluInputGradient, throughRelu: true);

    private unsafe void BackwardCore(ReadOnlyMatrixSpan<T> input, ReadOnlyMatrixSpan<T> output, ReadOnlyMatrixSpan<T> outputGradient, MatrixSpan<T> inputGradient,
        bool throughRelu)
    {
        LayerChecks.Backward(this, input, output, outputGradient, inputGradient);
        if (inputGradient.IsEmpty)
            return;
        fixed (T* images = input.Span)
        fixed (T* pooled = output.Span)
        fixed (T* upstream = outputGradient.Span)
        fixed (T* gradients = inputGradient.Span)
        {
            var job = new Job { Images = images, Pooled = pooled, Upstream = upstream, Gradients = gradients, Geometry = Shape, ThroughRelu = throughRelu };
            RowRanges.Run(&BackwardPart, &job, input.Rows, InputCount);
            if (job.Mismatch)
                throw new InvalidOperationException($"{this}: the output is not this input's maximum; Backward needs the forward pass of the same batch.");
        }
    }

    /// <summary>The sizes the loops need, copied into their job.</summary>
    private readonly record struct Geometry(int Channels, int Width, int OutHeight, int OutWidth, int Size, int ImageLength, int PooledLength)
    {
        /// <summary>The blocks tile the image: no rows or columns are left over, so every pixel belongs to one block.</summary>
        public bool Tiles => OutWidth * Size == Width && OutHeight * Size * Width * Channels == ImageLength;
    }

    private Geometry Shape => new(InputShape.Channels, InputShape.Width, OutputShape.Height, OutputShape.Width, Size, InputCount, OutputCount);

    private unsafe struct Job
    {
        public T* Images, Pooled, Upstream, Gradients;
        public Geometry Geometry;
        public bool ThroughRelu;
        public volatile bool Mismatch;
    }

    private static unsafe void ForwardPart(void* state, int first, int end)
    {
        ref var job = ref *(Job*)state;
        var g = job.Geometry;
        for (int n = first; n < end; n++)
        {
            var image = new ReadOnlySpan<T>(job.Images + (long)n * g.ImageLength, g.ImageLength);
            var pooled = new Span<T>(job.Pooled + (long)n * g.PooledLength, g.PooledLength);
            for (int oy = 0; oy < g.OutHeight; oy++)
            {
                for (int ox = 0; ox < g.OutWidth; ox++)
                {
                    // The block's pixels are runs of C channels: the maximum of the runs, all channels at once.
                    var max = pooled.Slice((oy * g.OutWidth + ox) * g.Channels, g.Channels);
                    int corner = (oy * g.Size * g.Width + ox * g.Size) * g.Channels;
                    image.Slice(corner, g.Channels).CopyTo(max);
                    for (int dy = 0; dy < g.Size; dy++)
                        for (int dx = dy == 0 ? 1 : 0; dx < g.Size; dx++)
                            TensorPrimitives.Max(max, image.Slice(corner + (dy * g.Width + dx) * g.Channels, g.Channels), max);
                }
            }
        }
    }

    private static unsafe void BackwardPart(void* state, int first, int end)
    {
        ref var job = ref *(Job*)state;
        var g = job.Geometry;
        int c = g.Channels, w = g.Width;
        bool vectors = Vector.IsHardwareAccelerated && Vector<T>.IsSupported;
        // Blocks that tile the image have every pixel written once, won or not, so the gradient
        // needs no clearing first, nor reading back.
        bool tiled = g.Tiles;
        for (int n = first; n < end; n++)
        {
            T* imageAt = job.Images + (long)n * g.ImageLength;
            T* gradientAt = job.Gradients + (long)n * g.ImageLength;
            T* pooledAt = job.Pooled + (long)n * g.PooledLength;
            T* upstreamAt = job.Upstream + (long)n * g.PooledLength;
            var image = new ReadOnlySpan<T>(imageAt, g.ImageLength);
            var gradient = new Span<T>(gradientAt, g.ImageLength);
            var pooled = new ReadOnlySpan<T>(pooledAt, g.PooledLength);
            var upstream = new ReadOnlySpan<T>(upstreamAt, g.PooledLength);
            if (!tiled)
                gradient.Clear();
            for (int oy = 0; oy < g.OutHeight; oy++)
            {
                for (int ox = 0; ox < g.OutWidth; ox++)
                {
                    int at = (oy * g.OutWidth + ox) * c;
                    int corner = (oy * g.Size * w + ox * g.Size) * c;
                    int ch = 0;
                    if (vectors)
                    {
                        // A vector of channels at a time: each lane's gradient goes to the first pixel equal to its maximum.
                        for (; ch + Vector<T>.Count <= c; ch += Vector<T>.Count)
                        {
                            var max = Vector.Load(pooledAt + at + ch);
                            var up = Vector.Load(upstreamAt + at + ch);
                            if (job.ThroughRelu)
                                up = Vector.ConditionalSelect(Vector.GreaterThan(max, Vector<T>.Zero), up, Vector<T>.Zero);
                            var open = Vector<T>.AllBitsSet;
                            for (int dy = 0; dy < g.Size; dy++)
                            {
                                for (int dx = 0; dx < g.Size; dx++)
                                {
                                    int index = corner + (dy * w + dx) * c + ch;
                                    var won = Vector.BitwiseAnd(Vector.Equals(Vector.Load(imageAt + index), max), open);
                                    if (tiled)
                                    {
                                        // + 0, as adding to a cleared gradient did: a -0 gradient lands as +0.
                                        (Vector.ConditionalSelect(won, up, Vector<T>.Zero) + Vector<T>.Zero).Store(gradientAt + index);
                                    }
                                    else
                                    {
                                        if (won == Vector<T>.Zero)
                                            continue;
                                        (Vector.Load(gradientAt + index) + Vector.ConditionalSelect(won, up, Vector<T>.Zero)).Store(gradientAt + index);
                                    }
                                    open = Vector.AndNot(open, won);
                                }
                            }
                            // A lane still open has a NaN maximum (NaN equals nothing): the scalar rule for it.
                            if (open != Vector<T>.Zero)
                                for (int lane = 0; lane < Vector<T>.Count; lane++)
                                    if (open[lane] != T.Zero)
                                        job.Mismatch |= !RouteOne(image, gradient, pooled[at + ch + lane], Through(pooled[at + ch + lane], upstream[at + ch + lane], job.ThroughRelu), corner + ch + lane, g);
                        }
                    }
                    if (tiled && ch < c)
                        for (int dy = 0; dy < g.Size; dy++)
                            for (int dx = 0; dx < g.Size; dx++)
                                gradient.Slice(corner + (dy * w + dx) * c + ch, c - ch).Clear();
                    for (; ch < c; ch++)
                        job.Mismatch |= !RouteOne(image, gradient, pooled[at + ch], Through(pooled[at + ch], upstream[at + ch], job.ThroughRelu), corner + ch, g);
                }
            }
        }
    }

    /// <summary>The gradient a block's winner gets: all of it, or through a ReLU below only where the maximum is above zero.</summary>
    private static T Through(T max, T upstream, bool throughRelu) => !throughRelu || max > T.Zero ? upstream : T.Zero;

    /// <summary>
    /// Adds <paramref name="upstream"/> to the gradient of the first pixel of the block at
    /// <paramref name="first"/> (channel included) whose value is <paramref name="max"/>; false when none is.
    /// </summary>
    private static bool RouteOne(ReadOnlySpan<T> image, Span<T> gradient, T max, T upstream, int first, Geometry g)
    {
        bool nan = T.IsNaN(max);
        for (int dy = 0; dy < g.Size; dy++)
        {
            for (int dx = 0; dx < g.Size; dx++)
            {
                int index = first + (dy * g.Width + dx) * g.Channels;
                if (image[index] == max || (nan && T.IsNaN(image[index])))
                {
                    gradient[index] += upstream;
                    return true;
                }
            }
        }
        return false;
    }

    /// <inheritdoc/>
    public string Kind => "maxpool2d";

    /// <inheritdoc/>
    public void Describe(ComponentDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        InputShape.Describe(description);
        description.Set("size", Size);
    }

    /// <summary>One MaxPool node (size x size, stride size, leftovers dropped), between the reshapes and transposes to NCHW and back.</summary>
    public string AddOnnxNodes(IOnnxGraph graph, string input, string output)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return ChannelsLastOnnx.Wrap(graph, input, output, InputShape, OutputShape, nchw =>
            graph.Node("MaxPool", [nchw], $"{output}.pool", OnnxAttribute.Ints("kernel_shape", Size, Size), OnnxAttribute.Ints("strides", Size, Size)));
    }

    /// <summary>A copy.</summary>
    public MaxPool2D<T> Clone() => new(InputShape, Size);

    ILayer<T> ILayer<T>.Clone() => Clone();

    /// <inheritdoc/>
    public override string ToString() =>
        $"MaxPool2D({InputShape.Channels}x{InputShape.Height}x{InputShape.Width} -> {OutputShape.Channels}x{OutputShape.Height}x{OutputShape.Width}, {Size}x{Size})";
}

/// <summary>Reads a <see cref="MaxPool2D{T}"/> layer.</summary>
internal sealed class MaxPool2DReader : ILayerReader
{
    public IEnumerable<ParameterShape> Parameters(ComponentDescription description) => [];

    public ILayer<T> Read<T>(ComponentDescription description)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new MaxPool2D<T>(ImageShape.Read(description), description.Count("size"));
}
