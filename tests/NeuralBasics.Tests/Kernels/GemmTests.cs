using System.Numerics;
using NeuralBasics.Kernels;

namespace NeuralBasics.Tests.Kernels;

public class GemmTests
{
    public enum Form { AB, AtB, ABt }

    private static readonly int[] AwkwardSizes = [1, 2, 3, 7, 16, 17, 31, 33, 64, 127, 129, 300];

    /// <summary>
    /// (m, n, k) triples: every awkward size as a square, the non-square mixes, and shapes that
    /// cross the cache blocks (K past KC, M past MC, N past NC for double; the blocks follow the
    /// cache sizes, see <see cref="ProcessorInfoTests"/>).
    /// </summary>
    public static IEnumerable<(int M, int N, int K)> Shapes()
    {
        foreach (int s in AwkwardSizes)
            yield return (s, s, s);
        for (int i = 0; i < AwkwardSizes.Length; i++)
        {
            int m = AwkwardSizes[i];
            int n = AwkwardSizes[(i + 5) % AwkwardSizes.Length];
            int k = AwkwardSizes[(i + 9) % AwkwardSizes.Length];
            yield return (m, n, k);
            yield return (n, k, m);
        }
        yield return (1, 300, 7);
        yield return (300, 1, 17);
        yield return (13, 37, 600);
        yield return (260, 40, 515);
        yield return (3, 2100, 5);
        yield return (128, 10, 256);
        // Past MC on every processor the blocking is derived for (up to 504 rows for 2 MiB of L2).
        yield return (520, 40, 300);
        // Narrow outputs (N ≤ one vector) big enough to be split across threads.
        yield return (1000, 7, 400);
        yield return (1001, 16, 260);
        // Narrow outputs of two and three vectors with 16 registers (AVX2: 9–16 and 17–24 floats;
        // 128-bit: 5–8 and 9–12), with rows left over after the 6- and 4-row blocks.
        yield return (1003, 10, 300);
        yield return (131, 9, 50);
        yield return (133, 17, 50);
        yield return (1001, 24, 260);
        // Narrow outputs of a few rows, B read where it lies (its last rows copied).
        yield return (1, 10, 256);
        yield return (5, 24, 300);
        yield return (11, 3, 40);
        yield return (1, 1, 2000);
        yield return (7, 17, 3);
        // Narrow outputs deeper than one slice (GemmDriver.NarrowSlice): a convolution's weight
        // gradient, a few rows, one row; the last slice short.
        yield return (9, 32, 4200);
        yield return (24, 48, 4200);
        yield return (25, 33, 4200);
        yield return (40, 7, 4097);
        yield return (1, 10, 2049);
    }

    /// <summary>Each element type with each kernel this processor runs for it.</summary>
    private static IEnumerable<(string Type, GemmKernel Kernel)> SupportedTypesAndKernels()
    {
        foreach (string type in new[] { "float", "double" })
            foreach (GemmKernel kernel in Enum.GetValues<GemmKernel>())
                if (type == "float" ? GemmKernelDescription<float>.For(kernel).IsSupported : GemmKernelDescription<double>.For(kernel).IsSupported)
                    yield return (type, kernel);
    }

    public static TheoryData<Form, string, string> Cases()
    {
        var data = new TheoryData<Form, string, string>();
        foreach (Form form in Enum.GetValues<Form>())
            foreach (var (type, kernel) in SupportedTypesAndKernels())
                data.Add(form, type, kernel.ToString());
        return data;
    }

    public static TheoryData<string, string> TypesAndKernels()
    {
        var data = new TheoryData<string, string>();
        foreach (var (type, kernel) in SupportedTypesAndKernels())
            data.Add(type, kernel.ToString());
        return data;
    }

    public static TheoryData<string> Kernels()
    {
        var data = new TheoryData<string>();
        foreach (GemmKernel kernel in Enum.GetValues<GemmKernel>())
            if (GemmKernelDescription<float>.For(kernel).IsSupported)
                data.Add(kernel.ToString());
        return data;
    }

    /// <summary>
    /// A narrow product deeper than <see cref="GemmDriver{T}.NarrowSlice"/> is its slices added in
    /// slice order, each element of a slice one chain of multiply-adds from zero (fused where the
    /// kernels fuse them, <see cref="HardwareFma"/>): computed here one element at a time, the same
    /// bits on one core and on all.
    /// The narrow widths, and the wider ones a deep product of few rows takes in column blocks (a
    /// convolution's weight gradient: <see cref="GemmDriver{T}.IsDeepNarrow"/>); A and Aᵀ,
    /// accumulating and not.
    /// </summary>
    [Theory]
    [InlineData("float")]
    [InlineData("double")]
    public void DeepNarrowProducts_AreTheirSlicesAddedInOrder(string type)
    {
        if (type == "float")
            CheckDeepNarrow<float>();
        else
            CheckDeepNarrow<double>();
    }

    private static void CheckDeepNarrow<T>()
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int slice = GemmDriver<T>.NarrowSlice;
        const int k = 2 * slice + 300;
        var kernel = GemmKernelDescription<T>.Best;
        Assert.True(kernel.NarrowWidth > 0, "This processor's best kernel has no narrow path.");
        // The narrow kernel's width, the widest block a deep product takes, and wider (several blocks).
        foreach (int n in new[] { Math.Min(10, kernel.NarrowWidth), kernel.DeepNarrowWidth, kernel.DeepNarrowWidth + kernel.Lanes + 1 })
        {
            foreach (int m in new[] { 9, 2 * kernel.MR })
            {
                foreach (bool transA in new[] { false, true })
                {
                    foreach (bool accumulate in new[] { false, true })
                    {
                        var a = transA ? TestData.Uniform<T>(k, m, 1) : TestData.Uniform<T>(m, k, 1);
                        var b = TestData.Uniform<T>(k, n, 2);
                        var start = TestData.Uniform<T>(m, n, 3);
                        var expected = new Matrix<T>(m, n);
                        for (int i = 0; i < m; i++)
                        {
                            for (int j = 0; j < n; j++)
                            {
                                T c = accumulate ? start[i, j] : T.Zero;
                                for (int p0 = 0; p0 < k; p0 += slice)
                                {
                                    T sum = T.Zero;
                                    for (int p = p0; p < Math.Min(k, p0 + slice); p++)
                                        sum = HardwareFma.IsSupported
                                            ? T.FusedMultiplyAdd(transA ? a[p, i] : a[i, p], b[p, j], sum)
                                            : (transA ? a[p, i] : a[i, p]) * b[p, j] + sum;
                                    c = p0 == 0 && !accumulate ? sum : c + sum;
                                }
                                expected[i, j] = c;
                            }
                        }
                        foreach (int threads in new[] { 1, 0 })
                        {
                            var c = new Matrix<T>(m, n);
                            start.Span.CopyTo(c.Span);
                            if (transA)
                                Gemm.MultiplyTransposeA(a, b, c, accumulate, threads);
                            else
                                Gemm.Multiply(a, b, c, accumulate, threads);
                            Assert.True(c.Span.SequenceEqual(expected.Span),
                                $"{typeof(T).Name} {m}x{n} transA={transA} accumulate={accumulate} threads={threads}: not the slices' chains added in order.");
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// The last, short row tile of a product (M not a multiple of the kernel's rows: 4 or 8 of 12
    /// go to short kernels, written straight into C; other counts through the tile buffer) has the
    /// bits of the same rows computed inside a taller product, where the full kernel computes them:
    /// every element is summed in the same order. Accumulating and not, each form, float and double.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void ShortRowTiles_HaveTheBitsOfFullTiles(Form form, string type, string kernelName)
    {
        var kernel = Enum.Parse<GemmKernel>(kernelName);
        if (type == "float")
            CheckShortRows<float>(form, kernel);
        else
            CheckShortRows<double>(form, kernel);
    }

    private static void CheckShortRows<T>(Form form, GemmKernel kernel)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int tall = 48, k = 300;
        foreach (int n in new[] { 40, 64 })
        {
            foreach (int m in new[] { 4, 8, 20, 44, 1, 5, 11, 43 })
            {
                foreach (bool accumulate in new[] { false, true })
                {
                    // A (or Aᵀ) of the tall product; the short one is its first m rows.
                    var aTall = form == Form.AtB ? TestData.Uniform<T>(k, tall, m) : TestData.Uniform<T>(tall, k, m);
                    var a = form == Form.AtB ? new Matrix<T>(k, m) : new Matrix<T>(m, k);
                    for (int i = 0; i < a.Rows; i++)
                        for (int j = 0; j < a.Columns; j++)
                            a[i, j] = aTall[i, j];
                    var b = form == Form.ABt ? TestData.Uniform<T>(n, k, n) : TestData.Uniform<T>(k, n, n);
                    var cTall = TestData.Uniform<T>(tall, n, 3);
                    var c = new Matrix<T>(m, n);
                    cTall.Span[..(m * n)].CopyTo(c.Span);
                    Gemm.Run<T>(aTall, b, cTall, tall, n, k, form == Form.AtB, form == Form.ABt, accumulate, 1, form.ToString(), kernel);
                    Gemm.Run<T>(a, b, c, m, n, k, form == Form.AtB, form == Form.ABt, accumulate, 1, form.ToString(), kernel);
                    Assert.True(c.Span.SequenceEqual(cTall.Span[..(m * n)]),
                        $"{form} {typeof(T).Name} {kernel} m={m} n={n} accumulate={accumulate}: the short tile's bits differ from the full tile's.");
                }
            }
        }
    }

    /// <summary>
    /// A read in place by the micro-kernel, row-major or stored transposed, has the bits of the same
    /// A packed first: the same values stored a multiple of 4 KiB a row apart (which the driver
    /// packs, see <see cref="GemmDriver{T}.ReadsAInPlace"/>) give the same C. Whole, short (4 or 8
    /// rows) and padded last tiles, edge columns, one and several K blocks, accumulating or not, one
    /// and two threads; the scalar kernel always packs.
    /// </summary>
    [Theory]
    [MemberData(nameof(TypesAndKernels))]
    public void AReadInPlace_HasTheBitsOfPackedA(string type, string kernelName)
    {
        var kernel = Enum.Parse<GemmKernel>(kernelName);
        if (type == "float")
            CheckInPlace<float>(kernel);
        else
            CheckInPlace<double>(kernel);
    }

    private static unsafe void CheckInPlace<T>(GemmKernel kernel)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var description = GemmKernelDescription<T>.For(kernel);
        var shapes = new[] { (128, 64, 300), (5, 40, 600), (44, 100, 260), (43, 33, 17), (300, 40, 520) };
        foreach (bool transA in new[] { false, true })
        {
            foreach (var (m, n, k) in shapes)
            {
                // Stored A: m x k, or k x m for Aᵀ (whose 128-wide rows would be packed: 512 bytes apart,
                // its lines crowd 8 of the 64 sets).
                int rows = transA ? k : m, columns = transA ? (m == 128 ? 127 : m) : k;
                int mm = transA ? columns : m;
                var a = TestData.Uniform<T>(rows, columns, m + k);
                var b = TestData.Uniform<T>(k, n, n);
                int aliased = (columns * sizeof(T) + 4095) / 4096 * 4096 / sizeof(T);
                var wide = new T[rows * aliased];
                for (int i = 0; i < rows; i++)
                    a.AsReadOnlySpan().Row(i).CopyTo(wide.AsSpan(i * aliased, columns));
                foreach (bool accumulate in new[] { false, true })
                {
                    foreach (int threads in new[] { 1, 2 })
                    {
                        var packedC = TestData.Uniform<T>(mm, n, 5).Span.ToArray();
                        var inPlaceC = packedC.ToArray();
                        fixed (T* pa = a.Span, pw = wide, pb = b.Span, pc = packedC, ic = inPlaceC)
                        {
                            var inPlace = new GemmArgs<T> { A = pa, Lda = columns, B = pb, Ldb = n, C = ic, Ldc = n, M = mm, N = n, K = k, TransA = transA, Accumulate = accumulate };
                            var packed = inPlace with { A = pw, Lda = aliased, C = pc };
                            Assert.Equal(kernel != GemmKernel.Scalar, GemmDriver<T>.ReadsAInPlace(inPlace, description));
                            Assert.False(GemmDriver<T>.ReadsAInPlace(packed, description));
                            GemmDriver<T>.Run(packed, threads, kernel);
                            GemmDriver<T>.Run(inPlace, threads, kernel);
                        }
                        Assert.True(inPlaceC.AsSpan().SequenceEqual(packedC),
                            $"{typeof(T).Name} {kernel} {mm}x{n}x{k} transA={transA} accumulate={accumulate} threads={threads}: A read in place gave other bits than A packed.");
                    }
                }
            }
        }
    }

    /// <summary>
    /// The fused dense-layer product (bias and ReLU applied as each tile of C is finished) gives
    /// the same bits as the product, the bias pass and the ReLU pass apart, for every kernel and
    /// every shape (edge tiles, several K blocks, narrow outputs, parallel strips, K = 0), with NaN,
    /// ±0 and negative values in play.
    /// </summary>
    [Theory]
    [MemberData(nameof(Kernels))]
    public void FusedBiasAndRelu_EqualTheThreePassesApart(string kernelName)
    {
        var kernel = Enum.Parse<GemmKernel>(kernelName);
        // The last two: one row, and a deep narrow product sliced along K (both finish C apart from the tiles).
        foreach (var (m, n, k) in Shapes().Append((64, 24, 0)).Append((200, 300, 260)).Append((1, 37, 300)).Append((3, 40, 2 * GemmDriver<float>.NarrowSlice + 5)))
        {
            var a = TestData.Uniform<float>(m, k, m + 7 * n);
            var b = TestData.Uniform<float>(k, n, k + 3);
            var bias = TestData.Uniform<float>(1, n, n).Span.ToArray();
            bias[0] = float.NaN;
            if (n > 2)
                bias[2] = -0f;
            var expected = new Matrix<float>(m, n);
            var expectedRelu = new Matrix<float>(m, n);
            Gemm.Run<float>(a, b, expected, m, n, k, transA: false, transB: false, accumulate: false, 0, "A·B", kernel);
            RowOps.AddRowVector<float>(expected, bias, expected);
            System.Numerics.Tensors.TensorPrimitives.Max(expected.Span, 0f, expectedRelu.Span);

            var c = new Matrix<float>(m, n);
            var relu = new Matrix<float>(m, n);
            c.Span.Fill(123);
            Gemm.MultiplyAddBias<float>(a, b, bias, c, FusedActivation.Relu, relu, kernel: kernel);
            Assert.True(SameBits(expected.Span, c.Span), $"{kernel} {m}x{n}x{k}: Z");
            Assert.True(SameBits(expectedRelu.Span, relu.Span), $"{kernel} {m}x{n}x{k}: ReLU(Z)");

            c.Span.Fill(123);
            Gemm.MultiplyAddBias<float>(a, b, bias, c, kernel: kernel);
            Assert.True(SameBits(expected.Span, c.Span), $"{kernel} {m}x{n}x{k}: Z without activation");

            c.Span.Fill(123);
            Gemm.MultiplyAddBias<float>(a, b, bias, c, FusedActivation.Relu, c, kernel: kernel);
            Assert.True(SameBits(expectedRelu.Span, c.Span), $"{kernel} {m}x{n}x{k}: ReLU(Z) written over C");
        }

        static bool SameBits(Span<float> x, Span<float> y) =>
            System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(x).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(y));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesNaiveProduct_AtAwkwardShapes(Form form, string type, string kernelName)
    {
        var kernel = Enum.Parse<GemmKernel>(kernelName);
        if (type == "float")
            CheckAllShapes<float>(form, kernel);
        else
            CheckAllShapes<double>(form, kernel);
    }

    private static void CheckAllShapes<T>(Form form, GemmKernel kernel)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int seed = 0;
        foreach (var (m, n, k) in Shapes())
        {
            foreach (bool accumulate in new[] { false, true })
            {
                foreach (int threads in new[] { 1, 0 })
                {
                    if (threads == 0 && (long)m * n * k < GemmDriver<T>.ParallelThreshold)
                        continue;
                    CheckOne<T>(form, kernel, m, n, k, accumulate, threads, ++seed);
                }
            }
        }
    }

    private static void CheckOne<T>(Form form, GemmKernel kernel, int m, int n, int k, bool accumulate, int threads, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var a = form == Form.AtB ? TestData.Uniform<T>(k, m, seed) : TestData.Uniform<T>(m, k, seed);
        var b = form == Form.ABt ? TestData.Uniform<T>(n, k, seed + 1000) : TestData.Uniform<T>(k, n, seed + 1000);
        var c0 = TestData.Uniform<T>(m, n, seed + 2000);

        // C lives inside a longer buffer whose tail must stay untouched.
        var buffer = new T[m * n + 5];
        c0.Span.CopyTo(buffer);
        buffer.AsSpan(m * n).Fill(T.CreateChecked(12345));
        var c = new MatrixSpan<T>(buffer, m, n);

        Gemm.Run<T>(a, b, c, m, n, k, form == Form.AtB, form == Form.ABt, accumulate, threads, form.ToString(), kernel);

        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = accumulate ? double.CreateChecked(c0[i, j]) : 0;
                double abs = Math.Abs(sum);
                for (int p = 0; p < k; p++)
                {
                    double x = double.CreateChecked(form == Form.AtB ? a[p, i] : a[i, p]);
                    double y = double.CreateChecked(form == Form.ABt ? b[j, p] : b[p, j]);
                    sum += x * y;
                    abs += Math.Abs(x * y);
                }
                // Standard bound for a k-term dot product: |error| <= (k + 1) u Σ|a||b|.
                double tolerance = (k + 2) * TestData.Epsilon<T>() * abs + 1e-300;
                double actual = double.CreateChecked(c[i, j]);
                if (!(Math.Abs(actual - sum) <= tolerance))
                    Assert.Fail($"{form} {typeof(T).Name} {kernel} m={m} n={n} k={k} accumulate={accumulate} threads={threads}: " +
                                $"C[{i},{j}] = {actual}, expected {sum} ± {tolerance}.");
            }
        }
        for (int t = m * n; t < buffer.Length; t++)
            Assert.Equal(T.CreateChecked(12345), buffer[t]);
    }

    /// <summary>
    /// B read in place by a narrow product of a few rows: every row counted as in place stays inside
    /// B (p·ldb + width ≤ last element + 1), and the next one would not.
    /// </summary>
    [Theory]
    [InlineData(256, 10, 10, 16)]
    [InlineData(256, 10, 10, 24)]
    [InlineData(3, 1, 1, 16)]
    [InlineData(40, 3, 8, 8)]
    [InlineData(1, 5, 5, 8)]
    [InlineData(2000, 1, 1, 4)]
    public void NarrowInPlaceRows_StayInsideB(int k, int n, int ldb, int width)
    {
        int head = GemmDriver<float>.InPlaceRows(k, ldb, n, width);
        long length = (long)(k - 1) * ldb + n;
        Assert.InRange(head, 0, k);
        if (head > 0)
            Assert.True((long)(head - 1) * ldb + width <= length);
        if (head < k)
            Assert.True((long)head * ldb + width > length);
    }

    [Fact]
    public void SmallProduct_MatchesHandWorkedValues()
    {
        var a = Matrix<double>.FromArray(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        var b = Matrix<double>.FromArray(new double[,] { { 7, 8 }, { 9, 10 }, { 11, 12 } });
        var c = new Matrix<double>(2, 2);
        Gemm.Multiply(a, b, c);
        Assert.Equal(new double[] { 58, 64, 139, 154 }, c.Span.ToArray());

        Gemm.Multiply(a, b, c, accumulate: true);
        Assert.Equal(new double[] { 116, 128, 278, 308 }, c.Span.ToArray());

        // Aᵀ·A for the 2 x 3 A above is 3 x 3.
        var ata = new Matrix<double>(3, 3);
        Gemm.MultiplyTransposeA(a, a, ata);
        Assert.Equal(new double[] { 17, 22, 27, 22, 29, 36, 27, 36, 45 }, ata.Span.ToArray());

        // A·Aᵀ is 2 x 2.
        var aat = new Matrix<double>(2, 2);
        Gemm.MultiplyTransposeB(a, a, aat);
        Assert.Equal(new double[] { 14, 32, 32, 77 }, aat.Span.ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ZeroDepth_GivesZeroOrLeavesC(bool accumulate)
    {
        var a = new Matrix<float>(3, 0);
        var b = new Matrix<float>(0, 4);
        var c = TestData.Uniform<float>(3, 4, 7);
        var before = c.Span.ToArray();
        Gemm.Multiply(a, b, c, accumulate);
        if (accumulate)
            Assert.Equal(before, c.Span.ToArray());
        else
            Assert.All(c.Span.ToArray(), x => Assert.Equal(0f, x));
    }

    [Fact]
    public void EmptyOutput_IsANoOp()
    {
        Gemm.Multiply(new Matrix<float>(0, 5), new Matrix<float>(5, 3), new Matrix<float>(0, 3));
        Gemm.Multiply(new Matrix<float>(4, 5), new Matrix<float>(5, 0), new Matrix<float>(4, 0));
    }

    [Fact]
    public void Multiply_ThrowsForInnerDimensionMismatch_NamingBothShapes()
    {
        var c = TestData.Uniform<float>(3, 6, 1);
        var before = c.Span.ToArray();
        var e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(new Matrix<float>(3, 4), new Matrix<float>(5, 6), c));
        Assert.Contains("[3x4]", e.Message);
        Assert.Contains("[5x6]", e.Message);
        Assert.Equal(before, c.Span.ToArray());
    }

    [Fact]
    public void TransposedForms_ThrowForMismatch_NamingBothShapes()
    {
        var e1 = Assert.Throws<ArgumentException>(() =>
            Gemm.MultiplyTransposeA(new Matrix<float>(4, 3), new Matrix<float>(5, 6), new Matrix<float>(3, 6)));
        Assert.Contains("[4x3]", e1.Message);
        Assert.Contains("[5x6]", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() =>
            Gemm.MultiplyTransposeB(new Matrix<float>(3, 4), new Matrix<float>(6, 5), new Matrix<float>(3, 6)));
        Assert.Contains("[3x4]", e2.Message);
        Assert.Contains("[6x5]", e2.Message);
    }

    [Theory]
    [InlineData(3, 5)]
    [InlineData(2, 6)]
    public void Multiply_ThrowsForWrongDestinationShape_WithoutWriting(int rows, int columns)
    {
        var c = TestData.Uniform<double>(rows, columns, 3);
        var before = c.Span.ToArray();
        var e = Assert.Throws<ArgumentException>(() =>
            Gemm.Multiply(TestData.Uniform<double>(3, 4, 1), TestData.Uniform<double>(4, 6, 2), c));
        Assert.Contains($"[{rows}x{columns}]", e.Message);
        Assert.Contains("[3x6]", e.Message);
        Assert.Equal(before, c.Span.ToArray());
    }

    [Fact]
    public void DestinationBufferTooSmall_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new MatrixSpan<float>(new float[11], 3, 4));
        Assert.Contains("[3x4]", e.Message);
        Assert.Contains("11", e.Message);
    }

    [Fact]
    public void DestinationOverlappingAnInput_Throws_WithoutWriting()
    {
        // A is elements 0..15 of one buffer and B is 16..31; C is placed at various offsets.
        var buffer = TestData.Uniform<float>(1, 40, 5).Span.ToArray();
        var before = (float[])buffer.Clone();

        static void Run(float[] buffer, Form form, int cOffset)
        {
            var a = new ReadOnlyMatrixSpan<float>(buffer.AsSpan(0, 16), 4, 4);
            var b = new ReadOnlyMatrixSpan<float>(buffer.AsSpan(16, 16), 4, 4);
            var c = new MatrixSpan<float>(buffer.AsSpan(cOffset, 16), 4, 4);
            switch (form)
            {
                case Form.AB: Gemm.Multiply(a, b, c); break;
                case Form.AtB: Gemm.MultiplyTransposeA(a, b, c); break;
                default: Gemm.MultiplyTransposeB(a, b, c); break;
            }
        }

        var e = Assert.Throws<ArgumentException>(() => Run(buffer, Form.AB, 0));
        Assert.Contains("overlaps A", e.Message);
        e = Assert.Throws<ArgumentException>(() => Run(buffer, Form.AB, 20));
        Assert.Contains("overlaps B", e.Message);
        Assert.Throws<ArgumentException>(() => Run(buffer, Form.AB, 12));
        Assert.Throws<ArgumentException>(() => Run(buffer, Form.AtB, 24));
        Assert.Throws<ArgumentException>(() => Run(buffer, Form.ABt, 8));
        Assert.Equal(before, buffer);
    }

    /// <summary>The fused ReLU may be written over C exactly, never over part of it or over an input.</summary>
    [Fact]
    public void FusedRelu_OverlappingCOtherThanExactly_IsRefused()
    {
        var buffer = new float[64];

        static void Run(float[] buffer, int activatedOffset)
        {
            var a = new ReadOnlyMatrixSpan<float>(buffer.AsSpan(0, 8), 2, 4);
            var b = new ReadOnlyMatrixSpan<float>(buffer.AsSpan(8, 16), 4, 4);
            var c = new MatrixSpan<float>(buffer.AsSpan(32, 8), 2, 4);
            Gemm.MultiplyAddBias<float>(a, b, new float[4], c, FusedActivation.Relu, new MatrixSpan<float>(buffer.AsSpan(activatedOffset, 8), 2, 4));
        }

        var e = Assert.Throws<ArgumentException>(() => Run(buffer, 36));
        Assert.Contains("other than exactly", e.Message);
        Assert.Throws<ArgumentException>(() => Run(buffer, 4));
        Run(buffer, 32);
        Assert.All(buffer, x => Assert.Equal(0f, x));
    }

    [Fact]
    public void DefaultDegreeOfParallelism_RejectsNegativeValues()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.DefaultMaxDegreeOfParallelism = -1);
        Assert.Contains("-1", e.Message);
    }

    [Fact]
    public void InputsMayShareMemory()
    {
        var a = TestData.Uniform<double>(5, 3, 9);
        var c = new Matrix<double>(3, 3);
        Gemm.MultiplyTransposeA(a, a, c);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
            {
                double expected = 0;
                for (int p = 0; p < 5; p++)
                    expected += a[p, i] * a[p, j];
                Assert.Equal(expected, c[i, j], 12);
            }
    }

    [Fact]
    public void ConcurrentCallers_EachGetTheirOwnCorrectProduct()
    {
        // Several threads multiply at once: one gets the workers, the rest run on their own thread.
        var a = TestData.Uniform<double>(200, 150, 1);
        var b = TestData.Uniform<double>(150, 120, 2);
        var expected = new Matrix<double>(200, 120);
        Gemm.Multiply(a, b, expected, maxDegreeOfParallelism: 1);

        Parallel.For(0, 8, _ =>
        {
            var c = new Matrix<double>(200, 120);
            for (int rep = 0; rep < 5; rep++)
            {
                Gemm.Multiply(a, b, c);
                Assert.Equal(expected.Span.ToArray(), c.Span.ToArray());
            }
        });
    }

    /// <summary>
    /// Aᵀ·B with A made a block of rows at a time (a convolution's weight gradient, its patches made
    /// again from the input) has the bits of Aᵀ·B over the whole A, for every kernel, both element
    /// types, every shape (blocked, narrow and deep narrow products, K slices of every kind), depth
    /// blocks from one row to all of K, with and without accumulating, on one core and all; and the
    /// fill is asked for every row once, in order, at most the depth the driver announces.
    /// </summary>
    [Theory]
    [MemberData(nameof(TypesAndKernels))]
    public void AProductMadeInDepthBlocks_HasTheWholeProductsBits(string type, string kernelName)
    {
        var kernel = Enum.Parse<GemmKernel>(kernelName);
        if (type == "float")
            CheckMadeInBlocks<float>(kernel);
        else
            CheckMadeInBlocks<double>(kernel);
    }

    private static unsafe void CheckMadeInBlocks<T>(GemmKernel kernel)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var shapes = Shapes().Where(s => s.K > 0).Append((288, 64, 3000)).Append((27, 40, 1100)).Append((12, 33, 5000));
        foreach (var (m, n, k) in shapes)
        {
            var a = TestData.Uniform<T>(k, m, m + 5 * k);
            var b = TestData.Uniform<T>(k, n, n + 11);
            var start = TestData.Uniform<T>(m, n, 3);
            foreach (bool accumulate in new[] { false, true })
            {
                var expected = new Matrix<T>(m, n);
                start.Span.CopyTo(expected.Span);
                Gemm.Run<T>(a, b, expected, m, n, k, transA: true, transB: false, accumulate, 0, "Aᵀ·B", kernel);
                foreach (int blockDepth in new[] { 1, 100, 700, int.MaxValue })
                    foreach (int threads in new[] { 1, 0 })
                    {
                        int most = GemmDriver<T>.BlockDepth(new GemmArgs<T> { M = m, N = n, K = k, TransA = true, Lda = m }, kernel, blockDepth);
                        Assert.InRange(most, 1, k);
                        var buffer = new T[(long)most * m];
                        var c = new Matrix<T>(m, n);
                        start.Span.CopyTo(c.Span);
                        fixed (T* source = a.Span)
                        fixed (T* block = buffer)
                        {
                            var fill = new BlockFill<T> { Source = source, Buffer = block, M = m, Most = most };
                            Gemm.MultiplyTransposeAMadeInBlocks<T>(m, b, c, blockDepth, &BlockFill<T>.Fill, &fill, accumulate, threads, kernel);
                            Assert.True(fill.Next == k && fill.Wrong == 0, $"{kernel} {m}x{n}x{k}, blocks of {blockDepth}: the fill reached row {fill.Next}, {fill.Wrong} calls out of order or too deep");
                        }
                        Assert.True(System.Runtime.InteropServices.MemoryMarshal.AsBytes(expected.Span).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(c.Span)),
                            $"{kernel} {typeof(T).Name} {m}x{n}x{k}, blocks of {blockDepth}, accumulate {accumulate}, threads {threads}");
                    }
            }
        }
    }

    /// <summary>
    /// A gathered Aᵀ (step p's values from offset p, row i's at column i past it) gives the bits of
    /// the same Aᵀ stored, for every kernel, with tiles of consecutive columns (read in place) and
    /// without (packed), accumulated or not, on one core and all.
    /// </summary>
    [Theory]
    [MemberData(nameof(TypesAndKernels))]
    public void AGatheredProduct_HasTheStoredProductsBits(string type, string kernelName)
    {
        var kernel = Enum.Parse<GemmKernel>(kernelName);
        if (type == "float")
            CheckGathered<float>(kernel);
        else
            CheckGathered<double>(kernel);
    }

    private static void CheckGathered<T>(GemmKernel kernel)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var description = GemmKernelDescription<T>.For(kernel);
        var shapes = Shapes().Append((M: 288, N: 64, K: 3000)).Append((M: 96, N: 40, K: 700))
            .Where(s => s.M > 0 && s.K > 0 && GemmDriver<T>.TakesBlockedKernel(s.M, s.N, s.K, description)).ToArray();
        Assert.Contains(shapes, s => s.M == 288);
        foreach (var (m, n, k) in shapes)
        {
            // Runs of 24 consecutive columns (whole tiles of 4, 6, 8 and 12 rows), or every second value.
            foreach (bool inRuns in new[] { true, false })
            {
                int[] columns = [.. Enumerable.Range(0, m).Select(i => inRuns ? i + i / 24 * 7 : 2 * i)];
                int[] offsets = [.. Enumerable.Range(0, k).Select(p => p * 3 + p % 5 * 11)];
                var source = TestData.Uniform<T>(1, offsets.Max() + columns.Max() + 1, m + 7 * k).Span.ToArray();
                var a = new Matrix<T>(k, m);
                for (int p = 0; p < k; p++)
                    for (int i = 0; i < m; i++)
                        a[p, i] = source[offsets[p] + columns[i]];
                var b = TestData.Uniform<T>(k, n, n + 13);
                var start = TestData.Uniform<T>(m, n, 5);
                foreach (bool accumulate in new[] { false, true })
                {
                    var expected = new Matrix<T>(m, n);
                    start.Span.CopyTo(expected.Span);
                    Gemm.Run<T>(a, b, expected, m, n, k, transA: true, transB: false, accumulate, 1, "Aᵀ·B", kernel);
                    foreach (int threads in new[] { 1, 0 })
                    {
                        var c = new Matrix<T>(m, n);
                        start.Span.CopyTo(c.Span);
                        Gemm.MultiplyTransposeAGathered<T>(source, offsets, columns, b.AsReadOnlySpan(), c.AsSpan(), accumulate, threads, kernel);
                        Assert.True(System.Runtime.InteropServices.MemoryMarshal.AsBytes(expected.Span).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(c.Span)),
                            $"{kernel} {typeof(T).Name} {m}x{n}x{k}, columns in runs {inRuns}, accumulate {accumulate}, threads {threads}");
                    }
                }
            }
        }
    }

    [Fact]
    public void AGatheredProduct_RefusesOffsetsPastA_AndTheNarrowKernelsShapes()
    {
        var b = TestData.Uniform<float>(40, 64, 1);
        var c = new Matrix<float>(24, 64);
        int[] columns = [.. Enumerable.Range(0, 24)];
        int[] offsets = [.. Enumerable.Range(0, 40).Select(p => p * 24)];
        var a = new float[40 * 24];
        Gemm.MultiplyTransposeAGathered<float>(a, offsets, columns, b.AsReadOnlySpan(), c.AsSpan());
        offsets[7] = 40 * 24 - 23;   // its last row one past A
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MultiplyTransposeAGathered<float>(a, offsets, columns, b.AsReadOnlySpan(), c.AsSpan()));
        offsets[7] = -1;
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MultiplyTransposeAGathered<float>(a, offsets, columns, b.AsReadOnlySpan(), c.AsSpan()));
        offsets[7] = 0;
        Assert.Throws<ArgumentException>(() => Gemm.MultiplyTransposeAGathered<float>(a, offsets.AsSpan(1), columns, b.AsReadOnlySpan(), c.AsSpan()));
        // One column of output: the narrow kernel's shape on every SIMD width.
        var narrow = new Matrix<float>(24, 1);
        if (GemmKernelDescription<float>.Best.NarrowWidth > 0)
            Assert.Throws<ArgumentException>(() => Gemm.MultiplyTransposeAGathered<float>(a, offsets, columns, TestData.Uniform<float>(40, 1, 2).AsReadOnlySpan(), narrow.AsSpan()));
    }

    /// <summary>A fill for <see cref="Gemm.MultiplyTransposeAMadeInBlocks"/> that copies rows of a stored A and checks it is asked for them in order.</summary>
    private unsafe struct BlockFill<T>
        where T : unmanaged
    {
        public T* Source, Buffer;
        public int M, Most, Next, Wrong;

        public static T* Fill(void* state, int first, int count)
        {
            ref var fill = ref *(BlockFill<T>*)state;
            if (first != fill.Next || count < 1 || count > fill.Most)
                fill.Wrong++;
            fill.Next = first + count;
            new ReadOnlySpan<T>(fill.Source + (long)first * fill.M, Math.Min(count, fill.Most) * fill.M).CopyTo(new Span<T>(fill.Buffer, Math.Min(count, fill.Most) * fill.M));
            return fill.Buffer;
        }
    }
}
