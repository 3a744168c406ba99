using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralBasics.Kernels;

/// <summary>
/// The sizes of a convolution followed by ReLU and 2 x 2 max-pooling, as <see cref="ConvReluPool{T}"/>
/// reads them: channels-last images already padded (<see cref="PaddedHeight"/> x <see cref="PaddedWidth"/>
/// x <see cref="Channels"/>), the k x k kernel moved <see cref="Stride"/> pixels at a time, an output of
/// <see cref="OutHeight"/> x <see cref="OutWidth"/> pixels (both even) of <see cref="Filters"/> channels.
/// </summary>
internal readonly record struct ConvPoolGeometry(int Channels, int PaddedHeight, int PaddedWidth, int Kernel, int Stride, int OutHeight, int OutWidth, int Filters)
{
    /// <summary>The values of one padded image.</summary>
    public int PaddedLength => PaddedHeight * PaddedWidth * Channels;

    /// <summary>k·k·C: the multiply-adds of one output value, the rows of the weight matrix.</summary>
    public int Taps => Kernel * Kernel * Channels;

    /// <summary>The 2 x 2 pooling blocks of one image.</summary>
    public int Windows => OutHeight / 2 * (OutWidth / 2);

    /// <summary>The values of one pooled image.</summary>
    public int PooledLength => Windows * Filters;

    /// <summary>The output pixels of one image (before pooling).</summary>
    public int Pixels => OutHeight * OutWidth;

    /// <summary>
    /// Each tap's offset from a receptive field's corner in the padded image, in (dy, dx, c) order
    /// (<see cref="Taps"/> of them): a kernel row's k·C taps are consecutive, the rows a padded image row apart.
    /// </summary>
    public void TapOffsets(Span<int> offsets)
    {
        int at = 0;
        for (int dy = 0; dy < Kernel; dy++)
            for (int j = 0; j < Kernel * Channels; j++)
                offsets[at++] = checked(dy * PaddedWidth * Channels + j);
    }
}

/// <summary>
/// A convolution, the ReLU after it and 2 x 2 max-pooling in one pass, for convolutions whose
/// product would be too shallow for the GEMM to pay (few input channels: the first layer of an
/// image network, k·k·C = 9 for 3x3 over gray pixels). Through the GEMM such a layer writes its
/// whole output — 12.8 MB per batch of 128 Fashion-MNIST images at 32 filters, nine multiply-adds per
/// value written — and the pooling reads it back, so both run at the speed of memory. Here each 2 x 2
/// block of output pixels is computed in registers (four pixels by two vectors of filters: eight
/// accumulators; two blocks side by side where there are 32 vector registers), and only its maximum
/// and which pixel won it leave them: a quarter of the values, and a bit per lane and pixel. Its
/// backward pass (<see cref="WeightGradient"/>) sums dW and db from the padded images and the
/// winners. Deeper convolutions keep the GEMM and pool each chunk of its output while in cache
/// (<see cref="Pool"/>), with the winners kept the same way.
/// </summary>
/// <remarks>
/// <para>
/// The bits are those of the layers apart: each output value is one chain of multiply-adds from
/// zero over the taps in the (dy, dx, c) order of the patch matrix's rows, as the GEMM computes
/// X̂·W, then plus the bias, then <c>max(0, z)</c>, then the block's maximum; the winner is the
/// first pixel in reading order equal to it (as <c>MaxPool2D</c> finds it), kept only where the
/// maximum is above zero, where the ReLU lets a gradient through.
/// </para>
/// <para>
/// The winners are stored per block and vector of filters as one <see cref="ulong"/>: W bits per
/// pixel of the block (W lanes a vector), pixel q's at bits qW .. qW + W − 1. <see cref="ExpandGradient"/>
/// turns them back into the convolution's output gradient where the GEMM needs it (dX, and dW of deep convolutions).
/// </para>
/// </remarks>
internal static unsafe class ConvReluPool<T>
    where T : unmanaged, INumber<T>
{
    /// <summary>Whether this processor and element type have the kernel: float or double, in 128-bit vectors or wider.</summary>
    public static bool IsSupported => (typeof(T) == typeof(float) || typeof(T) == typeof(double)) && Vector128.IsHardwareAccelerated;

    /// <summary>The lanes of the vectors the kernel uses here; the filters must be a multiple of it.</summary>
    public static int Lanes =>
        Vector512.IsHardwareAccelerated ? Vector512<T>.Count : Vector256.IsHardwareAccelerated ? Vector256<T>.Count : Vector128<T>.Count;

    /// <summary>The <see cref="ulong"/>s of winners one image keeps.</summary>
    public static int WinnersPerImage(in ConvPoolGeometry g) => g.Windows * (g.Filters / Lanes);

    private struct Job
    {
        public T* Images, Padded, Weights, Bias, Pooled, Gradient, Dense;
        public ulong* Winners;
        public int Height, Width, Padding;
        public ConvPoolGeometry Geometry;
        /// <summary>The largest magnitude of an input value for which no sum of the forward pass can overflow (see <see cref="SafeInputs"/>).</summary>
        public double Bound;
        /// <summary>The weight gradient's work: its rows (output pixels), slices of rows, and where the later slices' sums of dW and db go.</summary>
        public int Rows, Slices;
        public T* Partials, BiasPartials;
        /// <summary>The next slice of the weight gradient's work not yet taken.</summary>
        public int NextItem;
        /// <summary>Each tap's offset from a receptive field's corner in the padded image, in (dy, dx, c) order.</summary>
        public int* Offsets;
    }

    /// <summary>
    /// Pads each of <paramref name="images"/> images (<paramref name="height"/> x <paramref name="width"/>,
    /// channels last) with <paramref name="padding"/> zeros into <paramref name="padded"/> (whose
    /// border must already be zero: only the interior is written), then writes the pooled ReLU of
    /// the convolution with <paramref name="weights"/> (taps x filters) and <paramref name="bias"/>
    /// into <paramref name="pooled"/> and the winners into <paramref name="winners"/>; images split between the cores.
    /// </summary>
    public static void Forward(T* images, int height, int width, int padding, T* padded, T* weights, T* bias, T* pooled, ulong* winners,
        in ConvPoolGeometry g, int count)
    {
        var job = new Job
        {
            Images = images, Padded = padded, Weights = weights, Bias = bias, Pooled = pooled, Winners = winners,
            Height = height, Width = width, Padding = padding, Geometry = g,
            Bound = InputBound(weights, bias, g),
        };
        RowRanges.Run(&ForwardPart, &job, count, g.Pixels * g.Taps, partsPerThread: 8);
    }

    private static void ForwardPart(void* state, int first, int end)
    {
        ref var job = ref *(Job*)state;
        // Which images need the blocks' test for a NaN: here, so that the kernel's loops have no call around them.
        bool* check = stackalloc bool[end - first];
        int length = job.Height * job.Width * job.Geometry.Channels;
        for (int n = first; n < end; n++)
            check[n - first] = !SafeInputs(job.Images + (long)n * length, length, job.Bound);
        if (Vector512.IsHardwareAccelerated)
            ForwardImages<Vector512<T>, Vector512Ops<T>>(ref job, first, end, check);
        else if (Vector256.IsHardwareAccelerated)
            ForwardImages<Vector256<T>, Vector256Ops<T>>(ref job, first, end, check);
        else
            ForwardImages<Vector128<T>, Vector128Ops<T>>(ref job, first, end, check);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardImages<TVec, TOps>(ref Job job, int first, int end, bool* checks)
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
    {
        // A constant in each instantiation, so the 16-register ones do not even compile the
        // two-block loop (its nineteen vectors would spill, and crowd the one-block loop's registers).
        bool registers32 = typeof(TVec) == typeof(Vector512<T>) || System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported;
        var g = job.Geometry;
        int w = TOps.Count, vectors = g.Filters / w, c = g.Channels;
        int rowStride = g.PaddedWidth * c;
        nint right = g.Stride * c, down = (nint)g.Stride * rowStride;
        for (int n = first; n < end; n++)
        {
            T* image = job.Padded + (long)n * g.PaddedLength;
            T* source = job.Images + (long)n * job.Height * job.Width * c;
            for (int y = 0; y < job.Height; y++)
                ShortRuns<T>.Copy(source + (long)y * job.Width * c, image + ((y + job.Padding) * g.PaddedWidth + job.Padding) * c, job.Width * c);
            T* pooled = job.Pooled + (long)n * g.PooledLength;
            ulong* winners = job.Winners + (long)n * g.Windows * vectors;
            int half = g.OutWidth / 2;
            // Where no sum can be a NaN the blocks skip the test for one.
            bool check = checks[n - first];
            for (int wy = 0; wy < g.OutHeight / 2; wy++)
            {
                int wx = 0;
                if (registers32 && vectors % 2 == 0)
                {
                    // Two blocks side by side (sixteen accumulators): twice the independent chains per weight loaded.
                    int pairs = half / 2;
                    BlockPairs<TVec, TOps>(image + (nint)(2 * wy) * down, pairs, right, down, rowStride, job.Weights, job.Bias, pooled, winners, g, check);
                    wx = 2 * pairs;
                    pooled += 2 * pairs * g.Filters;
                    winners += 2 * pairs * vectors;
                }
                for (; wx < half; wx++, pooled += g.Filters, winners += vectors)
                {
                    T* corner = image + (nint)(2 * wy) * down + (2 * wx) * right;
                    int v = 0;
                    for (; v + 2 <= vectors; v += 2)
                        Block<TVec, TOps, TwoVectors>(corner, right, down, rowStride, job.Weights + v * w, job.Bias + v * w, pooled + v * w, winners + v, g, check);
                    if (v < vectors)
                        Block<TVec, TOps, OneVector>(corner, right, down, rowStride, job.Weights + v * w, job.Bias + v * w, pooled + v * w, winners + v, g, check);
                }
            }
        }
    }

    /// <summary>One or two vectors of filters: the block's accumulators for each.</summary>
    private interface IVectorCount
    {
        static abstract bool Two { get; }
    }

    private struct OneVector : IVectorCount
    {
        public static bool Two => false;
    }

    private struct TwoVectors : IVectorCount
    {
        public static bool Two => true;
    }

    /// <summary>
    /// One 2 x 2 block of output pixels (top-left receptive field at <paramref name="corner"/>, the
    /// others <paramref name="right"/> and <paramref name="down"/> values on) for one or two vectors
    /// of filters: four (or eight) accumulators, the two weight vectors of a tap and one broadcast.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Block<TVec, TOps, TCount>(T* corner, nint right, nint down, int rowStride, T* weights, T* bias, T* pooled, ulong* winners,
        in ConvPoolGeometry g, bool check)
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
        where TCount : struct, IVectorCount
    {
        int w = TOps.Count, run = g.Kernel * g.Channels, filters = g.Filters;
        TVec a0 = TOps.Zero, b0 = TOps.Zero, c0 = TOps.Zero, d0 = TOps.Zero;
        TVec a1 = TOps.Zero, b1 = TOps.Zero, c1 = TOps.Zero, d1 = TOps.Zero;
        T* tap = weights;
        for (int dy = 0; dy < g.Kernel; dy++)
        {
            T* row = corner + (nint)dy * rowStride;
            for (int j = 0; j < run; j++, tap += filters)
            {
                TVec w0 = TOps.Load(tap);
                TVec w1 = TCount.Two ? TOps.Load(tap + w) : w0;
                TVec x = TOps.Broadcast(row + j);
                a0 = TOps.MultiplyAdd(x, w0, a0);
                if (TCount.Two)
                    a1 = TOps.MultiplyAdd(x, w1, a1);
                x = TOps.Broadcast(row + right + j);
                b0 = TOps.MultiplyAdd(x, w0, b0);
                if (TCount.Two)
                    b1 = TOps.MultiplyAdd(x, w1, b1);
                x = TOps.Broadcast(row + down + j);
                c0 = TOps.MultiplyAdd(x, w0, c0);
                if (TCount.Two)
                    c1 = TOps.MultiplyAdd(x, w1, c1);
                x = TOps.Broadcast(row + down + right + j);
                d0 = TOps.MultiplyAdd(x, w0, d0);
                if (TCount.Two)
                    d1 = TOps.MultiplyAdd(x, w1, d1);
            }
        }
        Finish<TVec, TOps>(a0, b0, c0, d0, bias, pooled, winners, check);
        if (TCount.Two)
            Finish<TVec, TOps>(a1, b1, c1, d1, bias + w, pooled + w, winners + 1, check);
    }

    /// <summary>
    /// A row of <paramref name="pairs"/> pairs of 2 x 2 blocks side by side (a pair's second corner
    /// 2·<paramref name="right"/> after its first, the next pair's 4·<paramref name="right"/>), the
    /// first at <paramref name="rowCorner"/>, two vectors of filters at a time: sixteen accumulators,
    /// for targets with 32 vector registers. Each output is the same chain as in <see cref="Block"/>,
    /// so the same bits. A method of its own, called once a row: inlined, its locals exceeded what
    /// the JIT inlines (it made a call per pair of blocks, twelve arguments each), and the row's loop
    /// keeps the eight fields' corners in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void BlockPairs<TVec, TOps>(T* rowCorner, int pairs, nint right, nint down, int rowStride, T* weights, T* bias, T* pooled, ulong* winners,
        in ConvPoolGeometry g, bool check)
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
    {
        int w = TOps.Count, run = g.Kernel * g.Channels, filters = g.Filters, vectors = filters / w;
        nint next = 2 * right, step = filters;
        for (int pair = 0; pair < pairs; pair++, pooled += 2 * filters, winners += 2 * vectors)
        {
            T* corner = rowCorner + pair * 2 * next;
            for (int v = 0; v < vectors; v += 2)
            {
                TVec a0 = TOps.Zero, b0 = TOps.Zero, c0 = TOps.Zero, d0 = TOps.Zero;
                TVec a1 = TOps.Zero, b1 = TOps.Zero, c1 = TOps.Zero, d1 = TOps.Zero;
                TVec e0 = TOps.Zero, f0 = TOps.Zero, g0 = TOps.Zero, h0 = TOps.Zero;
                TVec e1 = TOps.Zero, f1 = TOps.Zero, g1 = TOps.Zero, h1 = TOps.Zero;
                // The eight fields' corners in registers and one offset stepped over the taps, so each
                // broadcast is one load from [corner + offset] with nothing computed for its address.
                T* p0 = corner, p1 = corner + right, p2 = corner + down, p3 = p2 + right;
                T* p4 = corner + next, p5 = p4 + right, p6 = p4 + down, p7 = p6 + right;
                T* tap = weights + v * w;
                for (int dy = 0; dy < g.Kernel; dy++)
                {
                    nint o = (nint)dy * rowStride, stop = o + run;
                    for (; o < stop; o++, tap += step)
                    {
                        TVec w0 = TOps.Load(tap);
                        TVec w1 = TOps.Load(tap + w);
                        TVec x = TOps.Broadcast(p0 + o);
                        a0 = TOps.MultiplyAdd(x, w0, a0);
                        a1 = TOps.MultiplyAdd(x, w1, a1);
                        x = TOps.Broadcast(p1 + o);
                        b0 = TOps.MultiplyAdd(x, w0, b0);
                        b1 = TOps.MultiplyAdd(x, w1, b1);
                        x = TOps.Broadcast(p2 + o);
                        c0 = TOps.MultiplyAdd(x, w0, c0);
                        c1 = TOps.MultiplyAdd(x, w1, c1);
                        x = TOps.Broadcast(p3 + o);
                        d0 = TOps.MultiplyAdd(x, w0, d0);
                        d1 = TOps.MultiplyAdd(x, w1, d1);
                        x = TOps.Broadcast(p4 + o);
                        e0 = TOps.MultiplyAdd(x, w0, e0);
                        e1 = TOps.MultiplyAdd(x, w1, e1);
                        x = TOps.Broadcast(p5 + o);
                        f0 = TOps.MultiplyAdd(x, w0, f0);
                        f1 = TOps.MultiplyAdd(x, w1, f1);
                        x = TOps.Broadcast(p6 + o);
                        g0 = TOps.MultiplyAdd(x, w0, g0);
                        g1 = TOps.MultiplyAdd(x, w1, g1);
                        x = TOps.Broadcast(p7 + o);
                        h0 = TOps.MultiplyAdd(x, w0, h0);
                        h1 = TOps.MultiplyAdd(x, w1, h1);
                    }
                }
                T* b = bias + v * w, to = pooled + v * w;
                ulong* won = winners + v;
                Finish<TVec, TOps>(a0, b0, c0, d0, b, to, won, check);
                Finish<TVec, TOps>(a1, b1, c1, d1, b + w, to + w, won + 1, check);
                Finish<TVec, TOps>(e0, f0, g0, h0, b, to + filters, won + vectors, check);
                Finish<TVec, TOps>(e1, f1, g1, h1, b + w, to + filters + w, won + vectors + 1, check);
            }
        }
    }

    /// <summary>
    /// The bias, the ReLU and the block's maximum of one vector of filters for the four pixels
    /// (reading order), and its winners: the first pixel equal to the maximum, where the maximum is above zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Finish<TVec, TOps>(TVec a, TVec b, TVec c, TVec d, T* bias, T* pooled, ulong* winners, bool check)
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
    {
        TVec bv = TOps.Load(bias);
        a = TOps.Add(a, bv);
        b = TOps.Add(b, bv);
        c = TOps.Add(c, bv);
        d = TOps.Add(d, bv);
        // The ReLU once, on the block's maximum: max(0, ·) of the largest is the largest of the
        // max(0, ·), bit for bit; where that is above zero, the pixels equal to it are those whose
        // ReLU equals it, so the winners are found on the values before the ReLU.
        TVec max = BlockMax<TVec, TOps>(a, b, c, d, relu: true, check);
        TOps.Store(max, pooled);
        *winners = Won<TVec, TOps>(a, b, c, d, max);
    }

    /// <summary>
    /// The largest magnitude an input value may have for no sum of the forward pass to overflow
    /// with these weights and biases: every partial sum then stays below a quarter of the type's
    /// largest value and the bias below another quarter, so with finite inputs no sum is infinite
    /// or a NaN. −1 (no input qualifies) where a weight or bias is not finite or too large.
    /// </summary>
    private static double InputBound(T* weights, T* bias, in ConvPoolGeometry g)
    {
        double limit = typeof(T) == typeof(float) ? float.MaxValue : double.MaxValue;
        double w = double.CreateTruncating(T.Abs(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(new ReadOnlySpan<T>(weights, g.Taps * g.Filters))));
        double b = double.CreateTruncating(T.Abs(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(new ReadOnlySpan<T>(bias, g.Filters))));
        if (!(w <= limit / 4 && b <= limit / 4))
            return -1;
        return w == 0 ? limit : limit / 4 / g.Taps / w;
    }

    /// <summary>Whether the <paramref name="length"/> values at <paramref name="values"/> are finite and at most <paramref name="bound"/> in magnitude (<see cref="InputBound"/>).</summary>
    /// <remarks>
    /// A vector loop of its own, not <c>TensorPrimitives.MaxMagnitude</c>: with that, conv1's forward
    /// pass took 0.48–0.54 ms a batch of 128 instead of 0.39–0.41 (one thread, Zen 5, AVX-512).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool SafeInputs(T* values, int length, double bound)
    {
        if (bound < 0)
            return false;
        T limit = T.CreateSaturating(bound);
        int i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var most = new Vector<T>(limit);
            for (; i + Vector<T>.Count <= length; i += Vector<T>.Count)
            {
                // A NaN is not below anything.
                if (!Vector.LessThanOrEqualAll(Vector.Abs(Vector.Load(values + i)), most))
                    return false;
            }
        }
        for (; i < length; i++)
        {
            if (!(T.Abs(values[i]) <= limit))
                return false;
        }
        return true;
    }

    /// <summary>
    /// Pools <paramref name="count"/> images of a convolution's output that already went through
    /// the ReLU (<paramref name="values"/>: pixels x filters each) into <paramref name="pooled"/>,
    /// with the winners as <see cref="Forward"/> keeps them: the first pixel of each block equal to
    /// its maximum, where that is above zero (the same values and winners as max-pooling and its
    /// backward pass through the ReLU find). Images split between the cores.
    /// </summary>
    public static void Pool(T* values, T* pooled, ulong* winners, in ConvPoolGeometry g, int count)
    {
        var job = new Job { Dense = values, Pooled = pooled, Winners = winners, Geometry = g };
        RowRanges.Run(&PoolPart, &job, count, g.Pixels * g.Filters);
    }

    private static void PoolPart(void* state, int first, int end)
    {
        ref var job = ref *(Job*)state;
        if (Vector512.IsHardwareAccelerated)
            PoolImages<Vector512<T>, Vector512Ops<T>>(ref job, first, end);
        else if (Vector256.IsHardwareAccelerated)
            PoolImages<Vector256<T>, Vector256Ops<T>>(ref job, first, end);
        else
            PoolImages<Vector128<T>, Vector128Ops<T>>(ref job, first, end);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PoolImages<TVec, TOps>(ref Job job, int first, int end)
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
    {
        var g = job.Geometry;
        int w = TOps.Count, vectors = g.Filters / w, f = g.Filters, outWidth = g.OutWidth;
        for (int n = first; n < end; n++)
        {
            T* image = job.Dense + (long)n * g.Pixels * f;
            T* pooled = job.Pooled + (long)n * g.PooledLength;
            ulong* winners = job.Winners + (long)n * g.Windows * vectors;
            for (int wy = 0; wy < g.OutHeight / 2; wy++)
            {
                T* top = image + (long)(2 * wy) * outWidth * f;
                T* bottom = top + (long)outWidth * f;
                for (int wx = 0; wx < outWidth / 2; wx++, pooled += f, winners += vectors)
                {
                    for (int v = 0; v < vectors; v++)
                    {
                        int at = 2 * wx * f + v * w;
                        TVec a = TOps.Load(top + at), b = TOps.Load(top + at + f), c = TOps.Load(bottom + at), d = TOps.Load(bottom + at + f);
                        TVec max = BlockMax<TVec, TOps>(a, b, c, d, relu: false, check: true);
                        TOps.Store(max, pooled + v * w);
                        winners[v] = Won<TVec, TOps>(a, b, c, d, max);
                    }
                }
            }
        }
    }

    /// <summary>
    /// The largest of four values in each lane (and of zero, with <paramref name="relu"/>), as
    /// <see cref="IVectorOps{TVec, T}.Max"/> takes it, bit for bit: in the processor's own maximum
    /// (one instruction each where <c>Max</c> takes three on x64), which differs only where a lane
    /// holds a NaN — the rare block with one takes <c>Max</c> — or where the largest is a zero of
    /// either sign, which the ReLU or the inputs settle: with <paramref name="relu"/> a zero or less
    /// becomes +0 either way; without it the values come out of a ReLU, never −0. Without
    /// <paramref name="check"/> the caller knows that none is a NaN (<see cref="SafeInputs"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static TVec BlockMax<TVec, TOps>(TVec a, TVec b, TVec c, TVec d, bool relu, bool check)
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
    {
        if (check && TOps.HasNaN(a, b, c, d))
            return relu ? TOps.Max(TOps.Max(TOps.Max(TOps.Max(a, b), c), d), TOps.Zero) : TOps.Max(TOps.Max(TOps.Max(a, b), c), d);
        TVec max = TOps.MaxNative(TOps.MaxNative(a, b), TOps.MaxNative(c, d));
        return relu ? TOps.MaxNative(max, TOps.Zero) : max;
    }

    /// <summary>The winners of one vector of a block: the first of the four pixels equal to the maximum, in the lanes where it is above zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static ulong Won<TVec, TOps>(TVec a, TVec b, TVec c, TVec d, TVec max)
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
    {
        // The lanes still open after each pixel; where the maximum is above zero and is not a, b
        // or c, it is d (it is one of the four), so d needs no compare.
        int w = TOps.Count;
        ulong open = TOps.Bits(TOps.Positive(max));
        ulong equal = TOps.Bits(TOps.Equal(a, max)), won0 = equal & open;
        open &= ~equal;
        equal = TOps.Bits(TOps.Equal(b, max));
        ulong won1 = equal & open;
        open &= ~equal;
        equal = TOps.Bits(TOps.Equal(c, max));
        ulong won2 = equal & open;
        return won0 | won1 << w | won2 << (2 * w) | (open & ~equal) << (3 * w);
    }

    /// <summary>
    /// The convolution's output gradient (pixels x filters per image, into <paramref name="dense"/>)
    /// from the pooled gradient and the winners of the last <see cref="Forward"/>: each block's
    /// gradient at its winner, zero at the other pixels — what max-pooling's backward pass through
    /// the ReLU writes, bit for bit. Images split between the cores.
    /// </summary>
    public static void ExpandGradient(T* pooledGradient, ulong* winners, T* dense, in ConvPoolGeometry g, int count)
    {
        var job = new Job { Gradient = pooledGradient, Winners = winners, Dense = dense, Geometry = g };
        RowRanges.Run(&ExpandPart, &job, count, g.Pixels * g.Filters);
    }

    private static void ExpandPart(void* state, int first, int end)
    {
        ref var job = ref *(Job*)state;
        if (Vector512.IsHardwareAccelerated)
            ExpandImages<Vector512<T>, Vector512Ops<T>>(ref job, first, end);
        else if (Vector256.IsHardwareAccelerated)
            ExpandImages<Vector256<T>, Vector256Ops<T>>(ref job, first, end);
        else
            ExpandImages<Vector128<T>, Vector128Ops<T>>(ref job, first, end);
    }

    /// <summary>
    /// Images <paramref name="first"/> .. <paramref name="end"/> − 1 of the convolution's output
    /// gradient, block by block as <see cref="PoolImages"/> reads them: each pixel's share of its
    /// block's gradient, the whole of it where it won, else zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ExpandImages<TVec, TOps>(ref Job job, int first, int end)
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
    {
        var g = job.Geometry;
        int w = TOps.Count, vectors = g.Filters / w, f = g.Filters, outWidth = g.OutWidth;
        ulong lane = (1UL << w) - 1;
        for (int n = first; n < end; n++)
        {
            T* dense = job.Dense + (long)n * g.Pixels * f;
            T* upstream = job.Gradient + (long)n * g.PooledLength;
            ulong* winners = job.Winners + (long)n * g.Windows * vectors;
            for (int wy = 0; wy < g.OutHeight / 2; wy++)
            {
                T* top = dense + (long)(2 * wy) * outWidth * f;
                T* bottom = top + (long)outWidth * f;
                for (int wx = 0; wx < outWidth / 2; wx++, upstream += f, winners += vectors)
                {
                    for (int v = 0; v < vectors; v++)
                    {
                        int at = 2 * wx * f + v * w;
                        TVec up = TOps.Load(upstream + v * w);
                        ulong won = winners[v];
                        // + 0, as max-pooling's backward pass writes it: a −0 gradient lands as +0.
                        TOps.Store(TOps.Add(TOps.Select(TOps.FromBits(won & lane), up, TOps.Zero), TOps.Zero), top + at);
                        TOps.Store(TOps.Add(TOps.Select(TOps.FromBits(won >> w & lane), up, TOps.Zero), TOps.Zero), top + at + f);
                        TOps.Store(TOps.Add(TOps.Select(TOps.FromBits(won >> (2 * w) & lane), up, TOps.Zero), TOps.Zero), bottom + at);
                        TOps.Store(TOps.Add(TOps.Select(TOps.FromBits(won >> (3 * w) & lane), up, TOps.Zero), TOps.Zero), bottom + at + f);
                    }
                }
            }
        }
    }

    /// <summary>The scratch <see cref="WeightGradient"/> needs for a batch of <paramref name="images"/>: the later slices' sums.</summary>
    public static long WeightGradientScratch(in ConvPoolGeometry g, int images)
    {
        long rows = (long)images * g.Pixels, slices = (rows + Slice - 1) / Slice;
        return Math.Max(1, (slices - 1) * (g.Taps + 1) * g.Filters);
    }

    /// <summary>The depth of one slice of the weight gradient's sums: the GEMM's (<see cref="GemmDriver{T}.NarrowSlice"/>), whose bits it keeps.</summary>
    private const int Slice = GemmDriver<T>.NarrowSlice;

    /// <summary>
    /// Whether <see cref="WeightGradient"/> gives the bits of X̂ᵀ·dY through the GEMM for this batch:
    /// where the GEMM sums such a product in narrow slices (<see cref="GemmDriver{T}.SumsInNarrowSlices"/>).
    /// </summary>
    public static bool HasWeightGradient(in ConvPoolGeometry g, int images) =>
        GemmDriver<T>.SumsInNarrowSlices(g.Taps, g.Filters, images * g.Pixels);

    /// <summary>
    /// The convolution's weight gradient dW = X̂ᵀ·dY (taps x filters) and bias gradient db = Σ dY
    /// over the pixels, with X̂ read from the padded images of the last <see cref="Forward"/> and each
    /// row of dY made from the winners as it is needed: through the GEMM, the patch matrix and the
    /// dense output gradient were 3.6 and 12.8 MB per batch of 128 Fashion-MNIST images at 32
    /// filters. The same sums as the GEMM (<see cref="HasWeightGradient"/> must hold): each element
    /// of dW one chain of multiply-adds from zero over each slice of rows, the slices added in order;
    /// db the same way, one chain of adds from zero over each slice, the slices added in order, as
    /// <see cref="RowOps.ColumnSumsInSlices"/> sums it for the GEMM's path. The cores take the slices
    /// as they come free, each summing its slice's db beside its dW.
    /// </summary>
    public static void WeightGradient(T* padded, ulong* winners, T* pooledGradient, T* weightGradient, T* biasGradient, T* scratch,
        in ConvPoolGeometry g, int images)
    {
        int rows = images * g.Pixels, slices = (rows + Slice - 1) / Slice;
        int* offsets = stackalloc int[g.Taps];
        g.TapOffsets(new Span<int>(offsets, g.Taps));
        var job = new Job
        {
            Padded = padded, Winners = winners, Gradient = pooledGradient, Dense = weightGradient, Bias = biasGradient, Geometry = g,
            Rows = rows, Slices = slices, Partials = scratch, BiasPartials = scratch + (long)(slices - 1) * g.Taps * g.Filters, Offsets = offsets,
        };
        bool oneCore = (long)rows * g.Taps * g.Filters < ParallelWork || KernelThreads.DefaultParallelism == 1;
        int parts = oneCore ? 1 : Math.Min(KernelThreads.DefaultParallelism, slices);
        if (parts > 1)
            KernelThreads.Run(&WeightGradientPart, &job, parts);
        else
            WeightGradientPart(&job, 0);
        GemmDriver<T>.AddSlicesInOrder(weightGradient, g.Filters, g.Taps, g.Filters, scratch, slices - 1);
        GemmDriver<T>.AddSlicesInOrder(biasGradient, g.Filters, 1, g.Filters, job.BiasPartials, slices - 1);
    }

    /// <summary>Multiply-adds (rows x taps x filters) from which the weight gradient's work is shared between the cores.</summary>
    private const long ParallelWork = 1L << 19;

    /// <summary>One core's share: the next slice not yet taken, until none is left.</summary>
    private static void WeightGradientPart(void* state, int part)
    {
        ref var job = ref *(Job*)state;
        for (int item; (item = Interlocked.Increment(ref job.NextItem) - 1) < job.Slices;)
        {
            if (Vector512.IsHardwareAccelerated)
                WeightGradientItem<Vector512<T>, Vector512Ops<T>>(ref job, item, registers32: true);
            else if (Vector256.IsHardwareAccelerated)
                WeightGradientItem<Vector256<T>, Vector256Ops<T>>(ref job, item, registers32: false);
            else
                WeightGradientItem<Vector128<T>, Vector128Ops<T>>(ref job, item, registers32: System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightGradientItem<TVec, TOps>(ref Job job, int item, bool registers32)
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
    {
        var g = job.Geometry;
        int w = TOps.Count, vectors = g.Filters / w, taps = g.Taps, f = g.Filters;
        int slice = item;
        int row = slice * Slice, count = Math.Min(Slice, job.Rows - row);
        T* target = slice == 0 ? job.Dense : job.Partials + (long)(slice - 1) * taps * f;
        // The slice's bias sums, from zero: they ride along its first block of taps.
        T* biasRow = slice == 0 ? job.Bias : job.BiasPartials + (long)(slice - 1) * f;
        new Span<T>(biasRow, f).Clear();
        var start = new PixelAt(g, row);
        for (int v = 0; v < vectors; v += 2)
        {
            bool two = v + 2 <= vectors;
            var source = new Upstream(job.Gradient + v * w, job.Winners + v, vectors);
            int run = g.Kernel * g.Channels, most = registers32 ? 12 : 6;
            // The first block of taps also sums these vectors' bias gradient over the slice.
            T* bias = biasRow + v * w;
            if (run == 3)
            {
                // Three taps a kernel row (3x3 over one channel): blocks of whole rows, each tap at a
                // fixed place from a pixel's field and its rows (Rows3).
                for (int dy = 0; dy < g.Kernel;)
                {
                    T* rows = job.Padded + dy * g.PaddedWidth * g.Channels, to = target + (long)dy * run * f + v * w;
                    int* offsets = job.Offsets + dy * run;
                    if (g.Kernel - dy >= 3 && most >= 9)
                        dy += Taps<TVec, TOps, Taps9, Rows3>(rows, offsets, start, count, source, g, to, two, bias) / 3;
                    else if (g.Kernel - dy >= 2 && most >= 6)
                        dy += Taps<TVec, TOps, Taps6, Rows3>(rows, offsets, start, count, source, g, to, two, bias) / 3;
                    else
                        dy += Taps<TVec, TOps, Taps3, Rows3>(rows, offsets, start, count, source, g, to, two, bias) / 3;
                    bias = null;
                }
            }
            else if (run >= 9 && run % 3 == 0)
            {
                // Long kernel rows (3x3 over three channels or more): blocks within a row, each tap at
                // a fixed place from the block's first (Contiguous).
                for (int dy = 0; dy < g.Kernel; dy++)
                {
                    for (int c = 0; c < run;)
                    {
                        int left = run - c, at = dy * run + c;
                        T* from = job.Padded + dy * g.PaddedWidth * g.Channels + c, to = target + (long)at * f + v * w;
                        c += TapBlock<TVec, TOps, Contiguous>(left, most, from, job.Offsets + at, start, count, source, g, to, two, bias);
                        bias = null;
                    }
                }
            }
            else
            {
                for (int t = 0; t < taps;)
                {
                    int left = taps - t;
                    T* to = target + (long)t * f + v * w;
                    t += TapBlock<TVec, TOps, Listed>(left, most, job.Padded, job.Offsets + t, start, count, source, g, to, two, bias);
                    bias = null;
                }
            }
        }
    }

    /// <summary>
    /// The largest block of the <paramref name="left"/> taps whose accumulators fit the registers
    /// (<paramref name="most"/> taps: two vectors each, 12 in 32 registers, 6 in 16), summed by
    /// <see cref="Taps{TVec, TOps, TTaps, TLayout}"/>. Returns the taps done. (Rows of a row-laid
    /// kernel and runs of a long row are multiples of three, so those layouts never take one tap alone.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int TapBlock<TVec, TOps, TLayout>(int left, int most, T* padded, int* offsets, PixelAt start, int count, Upstream source,
        in ConvPoolGeometry g, T* to, bool two, T* bias)
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
        where TLayout : struct, ITapLayout
    {
        if (most >= 12 && left >= 12)
            return Taps<TVec, TOps, Taps12, TLayout>(padded, offsets, start, count, source, g, to, two, bias);
        if (most >= 9 && left >= 9)
            return Taps<TVec, TOps, Taps9, TLayout>(padded, offsets, start, count, source, g, to, two, bias);
        if (left >= 6)
            return Taps<TVec, TOps, Taps6, TLayout>(padded, offsets, start, count, source, g, to, two, bias);
        if (left >= 3 || TLayout.Columns != 0)
            return Taps<TVec, TOps, Taps3, TLayout>(padded, offsets, start, count, source, g, to, two, bias);
        return Taps<TVec, TOps, Taps1, TLayout>(padded, offsets, start, count, source, g, to, two, bias);
    }

    /// <summary>Where a vector of filters' output gradient comes from: the pooled gradient and the winners, one vector of each per block.</summary>
    private readonly struct Upstream(T* gradient, ulong* winners, int vectors)
    {
        public readonly T* Gradient = gradient;
        public readonly ulong* Winners = winners;
        public readonly int Vectors = vectors;
    }

    /// <summary>The output pixel a slice of rows starts at: its image and position.</summary>
    private readonly struct PixelAt
    {
        public PixelAt(in ConvPoolGeometry g, int row)
        {
            Image = row / g.Pixels;
            int p = row % g.Pixels;
            Y = p / g.OutWidth;
            X = p % g.OutWidth;
        }

        public int Image { get; }
        public int Y { get; }
        public int X { get; }
    }

    private interface ITapCount
    {
        static abstract int Count { get; }
    }

    /// <summary>
    /// Where a block's taps lie from a pixel's receptive field (its corner, or the block's first tap):
    /// at listed offsets, each held in a register (<see cref="Listed"/>), or at places the JIT knows,
    /// so each broadcast reads [pixel + a multiple of the row + a constant] and no register holds an
    /// offset — on x64 sixteen general registers cannot hold twelve offsets besides the loop's own.
    /// </summary>
    private interface ITapLayout
    {
        /// <summary>The taps a kernel row holds in a block (0: listed); tap i at row i / Columns, column i % Columns.</summary>
        static abstract int Columns { get; }
    }

    /// <summary>Offsets from a list (any shape).</summary>
    private struct Listed : ITapLayout
    {
        public static int Columns => 0;
    }

    /// <summary>Whole kernel rows of three taps (3x3 over one channel): tap i at row i / 3, place i % 3.</summary>
    private struct Rows3 : ITapLayout
    {
        public static int Columns => 3;
    }

    /// <summary>Consecutive taps of one kernel row: tap i at i from the first.</summary>
    private struct Contiguous : ITapLayout
    {
        public static int Columns => int.MaxValue;
    }

    private struct Taps12 : ITapCount
    {
        public static int Count => 12;
    }

    private struct Taps9 : ITapCount
    {
        public static int Count => 9;
    }

    private struct Taps6 : ITapCount
    {
        public static int Count => 6;
    }

    private struct Taps3 : ITapCount
    {
        public static int Count => 3;
    }

    private struct Taps1 : ITapCount
    {
        public static int Count => 1;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Taps<TVec, TOps, TTaps, TLayout>(T* padded, int* offsets, PixelAt start, int count, Upstream source, in ConvPoolGeometry g, T* to, bool two,
        T* bias)
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
        where TTaps : struct, ITapCount
        where TLayout : struct, ITapLayout
    {
        return two ? Taps<TVec, TOps, TTaps, TLayout, TwoVectors>(padded, offsets, start, count, source, g, to, bias)
            : Taps<TVec, TOps, TTaps, TLayout, OneVector>(padded, offsets, start, count, source, g, to, bias);
    }

    /// <summary>
    /// <typeparamref name="TTaps"/> rows of the weight gradient (taps where <typeparamref name="TLayout"/> puts them: at <paramref name="offsets"/>, or at fixed places)
    /// by one or two vectors of filters, summed over <paramref name="count"/> output pixels from
    /// <paramref name="start"/>: each a chain of multiply-adds from zero in pixel order, with each
    /// pixel's dY made from its block's gradient where it won; stored into <paramref name="to"/>
    /// (rows of the filters apart). Returns the taps done.
    /// </summary>
    /// <remarks>
    /// The pixels run a row of the output at a time, the inner loop without a branch: with one (a
    /// cursor stepping across rows and images), the JIT kept the accumulators on the stack, a load
    /// and a store per multiply-add.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Taps<TVec, TOps, TTaps, TLayout, TCount>(T* padded, int* offsets, PixelAt start, int count, Upstream source, in ConvPoolGeometry g, T* to,
        T* bias)
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
        where TTaps : struct, ITapCount
        where TLayout : struct, ITapLayout
        where TCount : struct, IVectorCount
    {
        int w = TOps.Count, k = TTaps.Count, vectors = source.Vectors, f = g.Filters;
        bool two = TCount.Two;
        ulong lane = (1UL << w) - 1;
        bool listed = TLayout.Columns == 0;
        nint rowStride = g.PaddedWidth * g.Channels;
        int o0 = listed ? offsets[0] : 0, o1 = listed && k > 1 ? offsets[1] : 0, o2 = listed && k > 2 ? offsets[2] : 0, o3 = listed && k > 3 ? offsets[3] : 0;
        int o4 = listed && k > 4 ? offsets[4] : 0, o5 = listed && k > 5 ? offsets[5] : 0, o6 = listed && k > 6 ? offsets[6] : 0, o7 = listed && k > 7 ? offsets[7] : 0;
        int o8 = listed && k > 8 ? offsets[8] : 0, o9 = listed && k > 9 ? offsets[9] : 0, o10 = listed && k > 10 ? offsets[10] : 0, o11 = listed && k > 11 ? offsets[11] : 0;
        TVec a00 = TOps.Zero, a01 = TOps.Zero, a10 = TOps.Zero, a11 = TOps.Zero, a20 = TOps.Zero, a21 = TOps.Zero;
        TVec a30 = TOps.Zero, a31 = TOps.Zero, a40 = TOps.Zero, a41 = TOps.Zero, a50 = TOps.Zero, a51 = TOps.Zero;
        TVec a60 = TOps.Zero, a61 = TOps.Zero, a70 = TOps.Zero, a71 = TOps.Zero, a80 = TOps.Zero, a81 = TOps.Zero;
        TVec a90 = TOps.Zero, a91 = TOps.Zero, a100 = TOps.Zero, a101 = TOps.Zero, a110 = TOps.Zero, a111 = TOps.Zero;
        // The slice's bias chains, where they ride along (a bias vector given, zeroed for the slice).
        bool withBias = bias != null;
        TVec s0 = withBias ? TOps.Load(bias) : TOps.Zero, s1 = withBias && two ? TOps.Load(bias + w) : TOps.Zero;
        int n = start.Image, y = start.Y, x = start.X, half = g.OutWidth / 2;
        nint step = g.Stride * g.Channels;
        for (int done = 0; done < count;)
        {
            int end = Math.Min(g.OutWidth, x + count - done);
            // This output row's pixels x .. end − 1: field corners step apart, two pixels a block.
            T* row = padded + (long)n * g.PaddedLength + (long)y * g.Stride * g.PaddedWidth * g.Channels;
            T* up0 = source.Gradient + ((long)n * g.Windows + y / 2 * half) * f;
            ulong* won0 = source.Winners + ((long)n * g.Windows + y / 2 * half) * vectors;
            int top = (y & 1) * 2 * w;
            for (int j = x; j < end; j++)
            {
                T* p = row + j * step;
                T* up = up0 + (j >> 1) * f;
                ulong* won = won0 + (j >> 1) * vectors;
                int shift = top + (j & 1) * w;
                // The pixel's dY: its block's gradient in the lanes it won, zero in the others (the
                // pooling's "+ 0" is not needed here: the sums start at +0, so a −0 adds as +0 would).
                TVec y0 = TOps.Select(TOps.FromBits(won[0] >> shift & lane), TOps.Load(up), TOps.Zero);
                TVec y1 = two ? TOps.Select(TOps.FromBits(won[1] >> shift & lane), TOps.Load(up + w), TOps.Zero) : y0;
                if (withBias)
                {
                    s0 = TOps.Add(s0, y0);
                    if (two)
                        s1 = TOps.Add(s1, y1);
                }
                TVec b;
                b = TOps.Broadcast(Tap<TLayout>(p, rowStride, o0, 0)); a00 = TOps.MultiplyAdd(b, y0, a00); if (two) a01 = TOps.MultiplyAdd(b, y1, a01);
                if (k > 1) { b = TOps.Broadcast(Tap<TLayout>(p, rowStride, o1, 1)); a10 = TOps.MultiplyAdd(b, y0, a10); if (two) a11 = TOps.MultiplyAdd(b, y1, a11); }
                if (k > 2) { b = TOps.Broadcast(Tap<TLayout>(p, rowStride, o2, 2)); a20 = TOps.MultiplyAdd(b, y0, a20); if (two) a21 = TOps.MultiplyAdd(b, y1, a21); }
                if (k > 3) { b = TOps.Broadcast(Tap<TLayout>(p, rowStride, o3, 3)); a30 = TOps.MultiplyAdd(b, y0, a30); if (two) a31 = TOps.MultiplyAdd(b, y1, a31); }
                if (k > 4) { b = TOps.Broadcast(Tap<TLayout>(p, rowStride, o4, 4)); a40 = TOps.MultiplyAdd(b, y0, a40); if (two) a41 = TOps.MultiplyAdd(b, y1, a41); }
                if (k > 5) { b = TOps.Broadcast(Tap<TLayout>(p, rowStride, o5, 5)); a50 = TOps.MultiplyAdd(b, y0, a50); if (two) a51 = TOps.MultiplyAdd(b, y1, a51); }
                if (k > 6) { b = TOps.Broadcast(Tap<TLayout>(p, rowStride, o6, 6)); a60 = TOps.MultiplyAdd(b, y0, a60); if (two) a61 = TOps.MultiplyAdd(b, y1, a61); }
                if (k > 7) { b = TOps.Broadcast(Tap<TLayout>(p, rowStride, o7, 7)); a70 = TOps.MultiplyAdd(b, y0, a70); if (two) a71 = TOps.MultiplyAdd(b, y1, a71); }
                if (k > 8) { b = TOps.Broadcast(Tap<TLayout>(p, rowStride, o8, 8)); a80 = TOps.MultiplyAdd(b, y0, a80); if (two) a81 = TOps.MultiplyAdd(b, y1, a81); }
                if (k > 9) { b = TOps.Broadcast(Tap<TLayout>(p, rowStride, o9, 9)); a90 = TOps.MultiplyAdd(b, y0, a90); if (two) a91 = TOps.MultiplyAdd(b, y1, a91); }
                if (k > 10) { b = TOps.Broadcast(Tap<TLayout>(p, rowStride, o10, 10)); a100 = TOps.MultiplyAdd(b, y0, a100); if (two) a101 = TOps.MultiplyAdd(b, y1, a101); }
                if (k > 11) { b = TOps.Broadcast(Tap<TLayout>(p, rowStride, o11, 11)); a110 = TOps.MultiplyAdd(b, y0, a110); if (two) a111 = TOps.MultiplyAdd(b, y1, a111); }
            }
            done += end - x;
            x = 0;
            if (++y == g.OutHeight)
            {
                y = 0;
                n++;
            }
        }
        if (withBias)
            Store<TVec, TOps>(bias, w, two, s0, s1);
        Store<TVec, TOps>(to, w, two, a00, a01);
        if (k > 1) Store<TVec, TOps>(to + f, w, two, a10, a11);
        if (k > 2) Store<TVec, TOps>(to + 2 * f, w, two, a20, a21);
        if (k > 3) Store<TVec, TOps>(to + 3 * f, w, two, a30, a31);
        if (k > 4) Store<TVec, TOps>(to + 4 * f, w, two, a40, a41);
        if (k > 5) Store<TVec, TOps>(to + 5 * f, w, two, a50, a51);
        if (k > 6) Store<TVec, TOps>(to + 6 * f, w, two, a60, a61);
        if (k > 7) Store<TVec, TOps>(to + 7 * f, w, two, a70, a71);
        if (k > 8) Store<TVec, TOps>(to + 8 * f, w, two, a80, a81);
        if (k > 9) Store<TVec, TOps>(to + 9 * f, w, two, a90, a91);
        if (k > 10) Store<TVec, TOps>(to + 10 * f, w, two, a100, a101);
        if (k > 11) Store<TVec, TOps>(to + 11 * f, w, two, a110, a111);
        return k;
    }

    /// <summary>Tap <paramref name="i"/> of a block from pixel <paramref name="p"/>: at its listed offset, or at its place in the layout (a constant once inlined).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T* Tap<TLayout>(T* p, nint rowStride, int offset, int i)
        where TLayout : struct, ITapLayout =>
        TLayout.Columns == 0 ? p + offset : p + i / TLayout.Columns * rowStride + i % TLayout.Columns;

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Store<TVec, TOps>(T* to, int w, bool two, TVec first, TVec second)
        where TVec : unmanaged
        where TOps : struct, IVectorOps<TVec, T>
    {
        TOps.Store(first, to);
        if (two)
            TOps.Store(second, to + w);
    }
}
