using System.Numerics;

namespace NeuralBasics.Kernels;

/// <summary>
/// Matrix multiply in the three forms backpropagation uses, over row-major matrices:
/// <c>C = A·B</c> (forward scores), <c>C = Aᵀ·B</c> (weight gradients) and <c>C = A·Bᵀ</c>
/// (input gradients), each optionally accumulating (<c>C += ...</c>).
/// </summary>
/// <remarks>
/// <para>
/// A blocked kernel: panels of A and B are packed into cache-sized, 64-byte aligned buffers
/// (one set per thread, allocated once and reused), and a register-blocked micro-kernel computes
/// 12 x 32 float tiles with <c>Vector512</c> where the processor has AVX-512, 6 x 16 with
/// <c>Vector256</c> on AVX2, and 128-bit vectors or scalar code elsewhere. <see cref="float"/> and
/// <see cref="double"/> take the SIMD paths; other element types work through scalar code.
/// </para>
/// <para>
/// Products of at least 2^21 multiply-adds are split into strips of C computed on several cores;
/// smaller ones stay on the calling thread. <c>maxDegreeOfParallelism</c> caps the thread count
/// (1 forces one thread; 0 or less uses <see cref="DefaultMaxDegreeOfParallelism"/>, by default every core). Once warm a call allocates nothing, parallel
/// or not.
/// </para>
/// <para>
/// Overlaps: C must not share any memory with A or B (the product reads them while writing C),
/// so every overlap throws. A and B may overlap each other freely, e.g. <c>Aᵀ·A</c>. All checks
/// happen before anything is written.
/// </para>
/// </remarks>
public static class Gemm
{
    private static int s_defaultMaxDegreeOfParallelism;

    /// <summary>
    /// The thread cap used when a call passes <c>maxDegreeOfParallelism = 0</c> (the default), as
    /// the layers and the trainer do: 0 (the default) means every core, 1 keeps every product on
    /// its calling thread. Process-wide; set it once, before training.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public static int DefaultMaxDegreeOfParallelism
    {
        get => Volatile.Read(ref s_defaultMaxDegreeOfParallelism);
        set => Volatile.Write(ref s_defaultMaxDegreeOfParallelism, Guard.AtLeast(value, 0, "The default degree of parallelism"));
    }

    /// <summary><c>C = A·B</c>, or <c>C += A·B</c> when <paramref name="accumulate"/>. A is m x k, B is k x n, C is m x n.</summary>
    /// <exception cref="ArgumentException">The shapes do not agree, or C overlaps A or B.</exception>
    public static void Multiply<T>(ReadOnlyMatrixSpan<T> a, ReadOnlyMatrixSpan<T> b, MatrixSpan<T> c,
        bool accumulate = false, int maxDegreeOfParallelism = 0)
        where T : unmanaged, INumber<T>
    {
        if (a.Columns != b.Rows)
            throw new ArgumentException(
                $"Cannot multiply A {a.ToString()} by B {b.ToString()}: A has {a.Columns} columns but B has {b.Rows} rows.", nameof(b));
        Run(a, b, c, a.Rows, b.Columns, a.Columns, transA: false, transB: false, accumulate, maxDegreeOfParallelism, "A·B",
            GemmKernelDescription<T>.Best.Kernel);
    }

    /// <summary><c>C = Aᵀ·B</c>, or <c>C += Aᵀ·B</c> when <paramref name="accumulate"/>. A is k x m, B is k x n, C is m x n.</summary>
    /// <remarks>This is the weight gradient <c>dW = Xᵀ·dS</c>; A is read in place, never transposed in memory.</remarks>
    /// <exception cref="ArgumentException">The shapes do not agree, or C overlaps A or B.</exception>
    public static void MultiplyTransposeA<T>(ReadOnlyMatrixSpan<T> a, ReadOnlyMatrixSpan<T> b, MatrixSpan<T> c,
        bool accumulate = false, int maxDegreeOfParallelism = 0)
        where T : unmanaged, INumber<T>
    {
        if (a.Rows != b.Rows)
            throw new ArgumentException(
                $"Cannot multiply Aᵀ by B for A {a.ToString()} and B {b.ToString()}: A has {a.Rows} rows but B has {b.Rows}.", nameof(b));
        Run(a, b, c, a.Columns, b.Columns, a.Rows, transA: true, transB: false, accumulate, maxDegreeOfParallelism, "Aᵀ·B",
            GemmKernelDescription<T>.Best.Kernel);
    }

    /// <summary><c>C = A·Bᵀ</c>, or <c>C += A·Bᵀ</c> when <paramref name="accumulate"/>. A is m x k, B is n x k, C is m x n.</summary>
    /// <remarks>This is the input gradient <c>dX = dS·Wᵀ</c>; B is read in place, never transposed in memory.</remarks>
    /// <exception cref="ArgumentException">The shapes do not agree, or C overlaps A or B.</exception>
    public static void MultiplyTransposeB<T>(ReadOnlyMatrixSpan<T> a, ReadOnlyMatrixSpan<T> b, MatrixSpan<T> c,
        bool accumulate = false, int maxDegreeOfParallelism = 0)
        where T : unmanaged, INumber<T>
    {
        if (a.Columns != b.Columns)
            throw new ArgumentException(
                $"Cannot multiply A by Bᵀ for A {a.ToString()} and B {b.ToString()}: A has {a.Columns} columns but B has {b.Columns}.", nameof(b));
        Run(a, b, c, a.Rows, b.Rows, a.Columns, transA: false, transB: true, accumulate, maxDegreeOfParallelism, "A·Bᵀ",
            GemmKernelDescription<T>.Best.Kernel);
    }

    /// <summary>
    /// <c>C = A·B + bias</c>, the bias row added to every row of C, and with
    /// <paramref name="activation"/> = ReLU also <c>activated = max(0, C)</c> (<paramref name="activated"/>
    /// may be C itself, exactly: then C = max(0, A·B + bias), the sum never stored): a dense layer's
    /// forward pass, with the bias and activation applied to each tile of C as it is finished
    /// rather than in two more passes over C. Same results, bit for bit, as the three steps apart.
    /// </summary>
    /// <exception cref="ArgumentException">A shape disagrees, or a destination overlaps an input or the other destination.</exception>
    internal static unsafe void MultiplyAddBias<T>(ReadOnlyMatrixSpan<T> a, ReadOnlyMatrixSpan<T> b, ReadOnlySpan<T> bias, MatrixSpan<T> c,
        FusedActivation activation = FusedActivation.None, MatrixSpan<T> activated = default, int maxDegreeOfParallelism = 0, GemmKernel? kernel = null)
        where T : unmanaged, INumber<T>
    {
        if (a.Columns != b.Rows)
            throw new ArgumentException(
                $"Cannot multiply A {a.ToString()} by B {b.ToString()}: A has {a.Columns} columns but B has {b.Rows} rows.", nameof(b));
        if (bias.Length != b.Columns)
            throw new ArgumentException($"The bias has {bias.Length} elements but the product has {b.Columns} columns.", nameof(bias));
        if (activation != FusedActivation.None)
        {
            if (activated.Rows != a.Rows || activated.Columns != b.Columns)
                throw new ArgumentException($"The activation destination is {activated.ToString()} but the product is {Shape.Of(a.Rows, b.Columns)}.", nameof(activated));
            bool inPlace = activated.Span == c.Span;
            if (activated.Span.Overlaps(a.Span) || activated.Span.Overlaps(b.Span) || (!inPlace && activated.Span.Overlaps(c.Span)) || activated.Span.Overlaps(bias))
                throw new ArgumentException("The activation destination overlaps an input, or C other than exactly.", nameof(activated));
        }
        if (c.Span.Overlaps(bias))
            throw new ArgumentException("C overlaps the bias.", nameof(c));
        fixed (T* pBias = bias)
        fixed (T* pActivated = activated.Span)
        {
            Run(a, b, c, a.Rows, b.Columns, a.Columns, transA: false, transB: false, accumulate: false, maxDegreeOfParallelism, "A·B",
                kernel ?? GemmKernelDescription<T>.Best.Kernel, pBias, activation, pActivated);
        }
    }

    /// <summary>
    /// The most rows of A that <see cref="MultiplyTransposeAMadeInBlocks"/> asks its fill for at
    /// once, for an m x n product k deep and <paramref name="blockDepth"/>, with the default kernel:
    /// the size of the buffer it fills.
    /// </summary>
    internal static int MadeInBlocksDepth<T>(int m, int n, int k, int blockDepth)
        where T : unmanaged, INumber<T>
        => GemmDriver<T>.BlockDepth(new GemmArgs<T> { M = m, N = n, K = k, TransA = true, Lda = m }, GemmKernelDescription<T>.Best.Kernel, blockDepth);

    /// <summary>
    /// <c>C = Aᵀ·B</c>, or <c>C += Aᵀ·B</c> when <paramref name="accumulate"/>, where A (k x
    /// <paramref name="m"/>, k = B's rows) is made a block of rows at a time:
    /// <paramref name="fill"/>(<paramref name="state"/>, p0, count) writes rows p0 .. p0 + count - 1
    /// of A (<paramref name="m"/> values each, contiguous) and returns where they are. The same bits
    /// as <see cref="MultiplyTransposeA{T}(ReadOnlyMatrixSpan{T}, ReadOnlyMatrixSpan{T}, MatrixSpan{T}, bool, int)"/>
    /// of the whole A, whatever <paramref name="blockDepth"/> (see <see cref="GemmDriver{T}.RunMadeInDepthBlocks"/>).
    /// </summary>
    /// <exception cref="ArgumentException">C is not m x n, or overlaps B.</exception>
    internal static unsafe void MultiplyTransposeAMadeInBlocks<T>(int m, ReadOnlyMatrixSpan<T> b, MatrixSpan<T> c, int blockDepth,
        delegate*<void*, int, int, T*> fill, void* state, bool accumulate = false, int maxDegreeOfParallelism = 0, GemmKernel? kernel = null)
        where T : unmanaged, INumber<T>
    {
        var chosen = kernel ?? GemmKernelDescription<T>.Best.Kernel;
        Check(default, m, b, c, m, b.Columns, "Aᵀ·B", chosen);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockDepth);
        fixed (T* pb = b.Span)
        fixed (T* pc = c.Span)
        {
            var args = new GemmArgs<T> { B = pb, C = pc, Lda = m, Ldb = b.Columns, Ldc = c.Columns, M = m, N = b.Columns, K = b.Rows, TransA = true, Accumulate = accumulate };
            GemmDriver<T>.RunMadeInDepthBlocks(args, maxDegreeOfParallelism > 0 ? maxDegreeOfParallelism : DefaultMaxDegreeOfParallelism, chosen, blockDepth, fill, state);
        }
    }

    /// <summary>
    /// Whether <see cref="MultiplyTransposeAGathered"/> takes an m x n product k deep with the
    /// default kernel: the blocked kernel's shapes, not the narrow kernel's (which reads A strided).
    /// </summary>
    internal static bool GathersProduct<T>(int m, int n, int k)
        where T : unmanaged, INumber<T>
        => GemmDriver<T>.TakesBlockedKernel(m, n, k, GemmKernelDescription<T>.Best);

    /// <summary>Whether the default kernel reads a gathered Aᵀ with these columns in place, every tile (rather than packing it).</summary>
    internal static bool ReadsGatheredInPlace<T>(ReadOnlySpan<int> columns)
        where T : unmanaged, INumber<T>
        => GemmKernelDescription<T>.Best.CanReadAInPlace && ColumnsInTiles(columns, GemmKernelDescription<T>.Best.MR);

    /// <summary>Whether every <paramref name="mr"/>-row tile of a gathered Aᵀ (from row 0) has consecutive columns.</summary>
    private static bool ColumnsInTiles(ReadOnlySpan<int> columns, int mr)
    {
        for (int t = 0; t < columns.Length; t += mr)
            for (int r = 1; r < Math.Min(mr, columns.Length - t); r++)
                if (columns[t + r] != columns[t] + r)
                    return false;
        return true;
    }

    /// <summary>
    /// <c>C = Aᵀ·B</c>, or <c>C += Aᵀ·B</c> when <paramref name="accumulate"/>, with Aᵀ (k x m,
    /// k = B's rows, m = <paramref name="columns"/>' length) gathered from <paramref name="a"/>:
    /// element (p, i) is <c>a[offsets[p] + columns[i]]</c>. A convolution's X̂ᵀ·dY read from the
    /// padded images (a step p per output pixel, a column per tap) without making X̂. The same bits as
    /// <see cref="MultiplyTransposeA{T}(ReadOnlyMatrixSpan{T}, ReadOnlyMatrixSpan{T}, MatrixSpan{T}, bool, int)"/>
    /// of the Aᵀ it describes. Tiles whose columns are consecutive are read in place, others packed.
    /// For the blocked kernel's shapes only (<see cref="GathersProduct{T}"/>).
    /// </summary>
    /// <exception cref="ArgumentException">A shape disagrees, an offset and column fall outside <paramref name="a"/>, C overlaps an input, or the product is not the blocked kernel's.</exception>
    internal static unsafe void MultiplyTransposeAGathered<T>(ReadOnlySpan<T> a, ReadOnlySpan<int> offsets, ReadOnlySpan<int> columns,
        ReadOnlyMatrixSpan<T> b, MatrixSpan<T> c, bool accumulate = false, int maxDegreeOfParallelism = 0, GemmKernel? kernel = null)
        where T : unmanaged, INumber<T>
    {
        var chosen = kernel ?? GemmKernelDescription<T>.Best.Kernel;
        var description = GemmKernelDescription<T>.For(chosen);
        int m = columns.Length;
        Check(default, m, b, c, m, b.Columns, "Aᵀ·B", chosen);
        if (offsets.Length != b.Rows)
            throw new ArgumentException($"Aᵀ gathered has {offsets.Length} steps but B {b.ToString()} has {b.Rows} rows.", nameof(offsets));
        if (!GemmDriver<T>.TakesBlockedKernel(m, b.Columns, b.Rows, description))
            throw new ArgumentException($"A gathered product runs through the blocked kernel; {Shape.Of(m, b.Columns)} over {b.Rows} goes to the narrow one.", nameof(b));
        if (c.Span.Overlaps(a))
            throw new ArgumentException("C overlaps the gathered A.", nameof(c));
        if (m > 0 && offsets.Length > 0)
        {
            int lowStep = int.MaxValue, highStep = int.MinValue, lowColumn = int.MaxValue, highColumn = int.MinValue;
            foreach (int o in offsets)
            {
                lowStep = Math.Min(lowStep, o);
                highStep = Math.Max(highStep, o);
            }
            foreach (int o in columns)
            {
                lowColumn = Math.Min(lowColumn, o);
                highColumn = Math.Max(highColumn, o);
            }
            if (lowStep < 0 || lowColumn < 0 || (long)highStep + highColumn >= a.Length)
                throw new ArgumentOutOfRangeException(nameof(offsets), $"Gathered offsets {lowStep}..{highStep} and columns {lowColumn}..{highColumn} reach past A's {a.Length} values.");
        }
        bool inTiles = ColumnsInTiles(columns, description.MR);
        fixed (T* pa = a)
        fixed (int* po = offsets)
        fixed (int* pColumns = columns)
        fixed (T* pb = b.Span)
        fixed (T* pc = c.Span)
        {
            var args = new GemmArgs<T>
            {
                A = pa, B = pb, C = pc, Ldb = b.Columns, Ldc = c.Columns, M = m, N = b.Columns, K = b.Rows, TransA = true, Accumulate = accumulate,
                AOffsets = po, AColumns = pColumns, AColumnsInTiles = inTiles,
            };
            GemmDriver<T>.Run(args, maxDegreeOfParallelism > 0 ? maxDegreeOfParallelism : DefaultMaxDegreeOfParallelism, chosen);
        }
    }

    /// <summary>
    /// <c>C = A·Bᵀ</c> and <c>gradient = mask &gt; 0 ? C : 0</c>: a dense layer's input gradient and,
    /// in the same pass, ReLU's backward pass through the layer below it (<paramref name="mask"/> is
    /// that ReLU's input), applied to each tile of C as it is finished. Same bits as the two apart.
    /// </summary>
    /// <exception cref="ArgumentException">A shape disagrees, or a destination overlaps an input or the other destination.</exception>
    internal static unsafe void MultiplyTransposeBReluGradient<T>(ReadOnlyMatrixSpan<T> a, ReadOnlyMatrixSpan<T> b, MatrixSpan<T> c,
        ReadOnlyMatrixSpan<T> mask, MatrixSpan<T> gradient)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.Columns != b.Columns)
            throw new ArgumentException(
                $"Cannot multiply A by Bᵀ for A {a.ToString()} and B {b.ToString()}: A has {a.Columns} columns but B has {b.Columns}.", nameof(b));
        if (mask.Rows != a.Rows || mask.Columns != b.Rows || gradient.Rows != a.Rows || gradient.Columns != b.Rows)
            throw new ArgumentException(
                $"The mask {mask.ToString()} and gradient {gradient.ToString()} must both be {Shape.Of(a.Rows, b.Rows)}.", nameof(gradient));
        if (gradient.Span.Overlaps(a.Span) || gradient.Span.Overlaps(b.Span) || gradient.Span.Overlaps(c.Span) || gradient.Span.Overlaps(mask.Span))
            throw new ArgumentException("The gradient destination overlaps an input or C.", nameof(gradient));
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
        {
            // The epilogue is written for float and double; other types (Half) take the two passes.
            MultiplyTransposeB(a, b, c);
            ElementwiseLoop.Run(mask.Span, c.Span, gradient.Span, default(ReluDerivative<T>));
            return;
        }
        fixed (T* pMask = mask.Span)
        fixed (T* pGradient = gradient.Span)
        {
            Run(a, b, c, a.Rows, b.Rows, a.Columns, transA: false, transB: true, accumulate: false, 0, "A·Bᵀ",
                GemmKernelDescription<T>.Best.Kernel, null, FusedActivation.ReluGradient, pGradient, pMask);
        }
    }

    /// <inheritdoc cref="Multiply{T}(ReadOnlyMatrixSpan{T}, ReadOnlyMatrixSpan{T}, MatrixSpan{T}, bool, int)"/>
    public static void Multiply<T>(Matrix<T> a, Matrix<T> b, Matrix<T> c, bool accumulate = false, int maxDegreeOfParallelism = 0)
        where T : unmanaged, INumber<T>
        => Multiply(a.AsReadOnlySpan(), b.AsReadOnlySpan(), c.AsSpan(), accumulate, maxDegreeOfParallelism);

    /// <inheritdoc cref="MultiplyTransposeA{T}(ReadOnlyMatrixSpan{T}, ReadOnlyMatrixSpan{T}, MatrixSpan{T}, bool, int)"/>
    public static void MultiplyTransposeA<T>(Matrix<T> a, Matrix<T> b, Matrix<T> c, bool accumulate = false, int maxDegreeOfParallelism = 0)
        where T : unmanaged, INumber<T>
        => MultiplyTransposeA(a.AsReadOnlySpan(), b.AsReadOnlySpan(), c.AsSpan(), accumulate, maxDegreeOfParallelism);

    /// <inheritdoc cref="MultiplyTransposeB{T}(ReadOnlyMatrixSpan{T}, ReadOnlyMatrixSpan{T}, MatrixSpan{T}, bool, int)"/>
    public static void MultiplyTransposeB<T>(Matrix<T> a, Matrix<T> b, Matrix<T> c, bool accumulate = false, int maxDegreeOfParallelism = 0)
        where T : unmanaged, INumber<T>
        => MultiplyTransposeB(a.AsReadOnlySpan(), b.AsReadOnlySpan(), c.AsSpan(), accumulate, maxDegreeOfParallelism);

    /// <summary>Checks the destination and runs the driver with an explicit micro-kernel (tests reach every kernel this way).</summary>
    internal static unsafe void Run<T>(ReadOnlyMatrixSpan<T> a, ReadOnlyMatrixSpan<T> b, MatrixSpan<T> c,
        int m, int n, int k, bool transA, bool transB, bool accumulate, int maxDegreeOfParallelism, string form, GemmKernel kernel)
        where T : unmanaged, INumber<T>
        => Run(a, b, c, m, n, k, transA, transB, accumulate, maxDegreeOfParallelism, form, kernel, null, FusedActivation.None, null, null);

    /// <summary>
    /// C is m x n and shares no memory with A or B; the kernel runs here. A is <paramref name="a"/>,
    /// or, made a block at a time, <paramref name="madeColumns"/> wide (-1: not made). Messages are
    /// made only when thrown: this runs on every product.
    /// </summary>
    private static void Check<T>(ReadOnlyMatrixSpan<T> a, int madeColumns, ReadOnlyMatrixSpan<T> b, MatrixSpan<T> c, int m, int n, string form, GemmKernel kernel)
        where T : unmanaged, INumber<T>
    {
        if (c.Rows != m || c.Columns != n)
            throw new ArgumentException(
                $"C is {c.ToString()} but {form} for A {Describe(a, madeColumns)} and B {b.ToString()} is {Shape.Of(m, n)}.", nameof(c));
        if (c.Span.Overlaps(a.Span))
            throw new ArgumentException($"C {c.ToString()} overlaps A {a.ToString()}: the destination of {form} must not share memory with its inputs.", nameof(c));
        if (c.Span.Overlaps(b.Span))
            throw new ArgumentException($"C {c.ToString()} overlaps B {b.ToString()}: the destination of {form} must not share memory with its inputs.", nameof(c));
        if (!GemmKernelDescription<T>.For(kernel).IsSupported)
            throw new PlatformNotSupportedException($"The {kernel} GEMM kernel ({GemmKernelDescription<T>.For(kernel).Name}) is not supported for {typeof(T).Name} on this processor.");

        static string Describe(ReadOnlyMatrixSpan<T> a, int madeColumns) => madeColumns >= 0 ? $"of {madeColumns} columns" : a.ToString();
    }

    /// <summary>The same, with the epilogue's bias and activation (see <see cref="GemmArgs{T}"/>).</summary>
    private static unsafe void Run<T>(ReadOnlyMatrixSpan<T> a, ReadOnlyMatrixSpan<T> b, MatrixSpan<T> c,
        int m, int n, int k, bool transA, bool transB, bool accumulate, int maxDegreeOfParallelism, string form, GemmKernel kernel,
        T* bias, FusedActivation activation, T* activated, T* mask = null)
        where T : unmanaged, INumber<T>
    {
        Check(a, -1, b, c, m, n, form, kernel);

        fixed (T* pa = a.Span)
        fixed (T* pb = b.Span)
        fixed (T* pc = c.Span)
        {
            var args = new GemmArgs<T>
            {
                A = pa,
                B = pb,
                C = pc,
                Lda = a.Columns,
                Ldb = b.Columns,
                Ldc = n,
                M = m,
                N = n,
                K = k,
                TransA = transA,
                TransB = transB,
                Accumulate = accumulate,
                Bias = bias,
                Activation = bias == null && activation != FusedActivation.ReluGradient ? FusedActivation.None : activation,
                Activated = activated,
                Mask = mask,
            };
            GemmDriver<T>.Run(args, maxDegreeOfParallelism > 0 ? maxDegreeOfParallelism : DefaultMaxDegreeOfParallelism, kernel);
        }
    }
}
