using System.Numerics;
using NeuralBasics.Kernels;

namespace NeuralBasics.Tests.Kernels;

public class RowOpsTests
{
    // Lengths 0 to past three of the widest vector (16 floats), plus the awkward sizes.
    public static TheoryData<int, int> Shapes()
    {
        var data = new TheoryData<int, int>();
        foreach (int columns in new[] { 0, 1, 2, 3, 7, 15, 16, 17, 31, 33, 47, 48, 49, 64, 127, 129, 300 })
            foreach (int rows in new[] { 1, 3, 17 })
                data.Add(rows, columns);
        data.Add(0, 5);
        // Tall and short-rowed, as a convolution's bias gradient: the sums kept in registers.
        data.Add(1000, 32);
        data.Add(1000, 64);
        data.Add(513, 128);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void AddRowVector_MatchesScalarLoop(int rows, int columns)
    {
        Check<float>(rows, columns);
        Check<double>(rows, columns);

        static void Check<T>(int rows, int columns) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var x = TestData.Uniform<T>(rows, columns, 1);
            var bias = TestData.Uniform<T>(1, columns, 2).Span.ToArray();
            var y = new Matrix<T>(rows, columns);
            RowOps.AddRowVector<T>(x, bias, y);
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < columns; j++)
                    Assert.Equal(x[i, j] + bias[j], y[i, j]);

            // In place.
            RowOps.AddRowVector<T>(x, bias, x);
            Assert.Equal(y.Span.ToArray(), x.Span.ToArray());
        }
    }

    /// <summary>
    /// The column sums in slices (a convolution's bias gradient): each slice of 2,048 rows one chain
    /// in row order from zero, the slices added in order — computed here by the definition in T —
    /// and up to one slice the bits of the plain column sums.
    /// </summary>
    [Theory]
    [InlineData(1, 3)]
    [InlineData(2048, 32)]
    [InlineData(2049, 32)]
    [InlineData(5000, 64)]
    [InlineData(6144, 7)]
    public void ColumnSumsInSlices_AddEachSlicesChainInOrder(int rows, int columns)
    {
        Check<float>(rows, columns);
        Check<double>(rows, columns);

        static void Check<T>(int rows, int columns) where T : unmanaged, IFloatingPointIeee754<T>
        {
            const int slice = 2048;
            var x = TestData.Uniform<T>(rows, columns, 5);
            var sums = new T[columns + 1];
            sums[columns] = T.CreateChecked(99);
            RowOps.ColumnSumsInSlices<T>(x, sums, new T[columns]);
            for (int j = 0; j < columns; j++)
            {
                T total = T.Zero;
                for (int first = 0; first < rows; first += slice)
                {
                    T chain = T.Zero;
                    for (int i = first; i < Math.Min(rows, first + slice); i++)
                        chain += x[i, j];
                    total = first == 0 ? chain : total + chain;
                }
                Assert.Equal(total, sums[j]);
            }
            Assert.Equal(T.CreateChecked(99), sums[columns]);
            if (rows <= slice)
            {
                var plain = new T[columns];
                RowOps.ColumnSums<T>(x, plain);
                Assert.Equal(plain, sums[..columns]);
            }
            else if (rows >= 2 * slice)
            {
                // With later slices of many rows the order differs from one chain: a test of the slices, not of rounding luck.
                var plain = new T[columns];
                RowOps.ColumnSums<T>(x, plain);
                Assert.NotEqual(plain, sums[..columns]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ColumnSums_MatchScalarLoop(int rows, int columns)
    {
        Check<float>(rows, columns);
        Check<double>(rows, columns);

        static void Check<T>(int rows, int columns) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var x = TestData.Uniform<T>(rows, columns, 3);
            var sums = new T[columns + 1];
            sums[columns] = T.CreateChecked(99);
            RowOps.ColumnSums<T>(x, sums);
            var again = (T[])sums.Clone();
            RowOps.ColumnSums<T>(x, again, accumulate: true);
            for (int j = 0; j < columns; j++)
            {
                // Bit for bit the row-order sum in T, whichever path (registers for short rows, whole rows added for long ones).
                T inOrder = T.Zero, again2 = sums[j];
                for (int i = 0; i < rows; i++)
                {
                    inOrder += x[i, j];
                    again2 += x[i, j];
                }
                Assert.Equal(inOrder, sums[j]);
                Assert.Equal(again2, again[j]);
                double expected = 0;
                for (int i = 0; i < rows; i++)
                    expected += double.CreateChecked(x[i, j]);
                double tolerance = (rows + 1) * TestData.Epsilon<T>() * rows;
                Assert.InRange(double.CreateChecked(sums[j]), expected - tolerance, expected + tolerance);
                Assert.InRange(double.CreateChecked(again[j]), 2 * expected - 2 * tolerance, 2 * expected + 2 * tolerance);
            }
            Assert.Equal(T.CreateChecked(99), sums[columns]);
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void RowMaxAndArgMax_MatchScalarLoop(int rows, int columns)
    {
        if (columns == 0)
            return;
        Check<float>(rows, columns);
        Check<double>(rows, columns);

        static void Check<T>(int rows, int columns) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var x = TestData.Uniform<T>(rows, columns, 4);
            var max = new T[rows];
            var arg = new int[rows];
            RowOps.RowMax<T>(x, max);
            RowOps.RowArgMax<T>(x, arg);
            for (int i = 0; i < rows; i++)
            {
                int best = 0;
                for (int j = 1; j < columns; j++)
                    if (x[i, j] > x[i, best])
                        best = j;
                Assert.Equal(best, arg[i]);
                Assert.Equal(x[i, best], max[i]);
            }
        }
    }

    [Fact]
    public void RowArgMax_BreaksTiesToTheLowestIndex_AndFindsNaN()
    {
        var x = Matrix<float>.FromArray(new float[,] { { 1, 5, 5, 2 }, { 3, 3, 3, 3 }, { 0, float.NaN, 9, float.NaN } });
        var arg = new int[3];
        RowOps.RowArgMax<float>(x, arg);
        Assert.Equal(new[] { 1, 0, 1 }, arg);
        var max = new float[3];
        RowOps.RowMax<float>(x, max);
        Assert.Equal(5f, max[0]);
        Assert.True(float.IsNaN(max[2]));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Softmax_MatchesScalarLoop(int rows, int columns)
    {
        Check<float>(rows, columns, 1e-6);
        Check<double>(rows, columns, 1e-14);

        static void Check<T>(int rows, int columns, double tolerance) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var x = TestData.Uniform<T>(rows, columns, 5, scale: 10);
            var p = new Matrix<T>(rows, columns);
            RowOps.SoftmaxRows<T>(x, p);
            for (int i = 0; i < rows; i++)
            {
                double max = double.NegativeInfinity;
                for (int j = 0; j < columns; j++)
                    max = Math.Max(max, double.CreateChecked(x[i, j]));
                double sum = 0;
                for (int j = 0; j < columns; j++)
                    sum += Math.Exp(double.CreateChecked(x[i, j]) - max);
                for (int j = 0; j < columns; j++)
                {
                    double expected = Math.Exp(double.CreateChecked(x[i, j]) - max) / sum;
                    Assert.InRange(double.CreateChecked(p[i, j]), expected - tolerance, expected + tolerance);
                }
            }

            RowOps.SoftmaxRows<T>(x, x);
            Assert.Equal(p.Span.ToArray(), x.Span.ToArray());
        }
    }

    /// <summary>
    /// Classes far below the row's max have probabilities below the smallest normal float
    /// (1.18e-38): those become exactly 0 instead of subnormals, which would run on a slow path on
    /// x86; probabilities just above that range are computed as usual.
    /// </summary>
    [Fact]
    public void Softmax_LeavesNoSubnormals_AndKeepsSmallNormalProbabilities()
    {
                var p = new Matrix<float>(1, 8);
        RowOps.SoftmaxRows<float>(Matrix<float>.FromArray(new float[,] { { 0, -80, -85, -87.5f, -90, -100, -104, -1e4f } }), p);
        Assert.All(p.Span.ToArray(), v => Assert.False(float.IsSubnormal(v), $"{v} is subnormal"));
        Assert.Equal(1f, p[0, 0]);
        Assert.Equal(Math.Exp(-80), p[0, 1], Math.Exp(-80) * 1e-5);    // 1.8e-35
        Assert.Equal(Math.Exp(-85), p[0, 2], Math.Exp(-85) * 1e-5);    // 1.2e-37
        Assert.Equal(new float[] { 0, 0, 0, 0, 0 }, p.Span[3..].ToArray()); // 9.9e-39 and below: subnormal
    }

    [Fact]
    public void Softmax_IsExactForHugeScores()
    {
        // exp(1e4) overflows; with the row max subtracted the answer is exact:
        // [1e4, 1e4 - ln 3] -> [3/4, 1/4], and [-1e4, -1e4] -> [1/2, 1/2].
        var x = Matrix<double>.FromArray(new[,] { { 1e4, 1e4 - Math.Log(3) }, { -1e4, -1e4 } });
        var p = new Matrix<double>(2, 2);
        RowOps.SoftmaxRows<double>(x, p);
        Assert.Equal(0.75, p[0, 0], 12);
        Assert.Equal(0.25, p[0, 1], 12);
        Assert.Equal(0.5, p[1, 0]);
        Assert.Equal(0.5, p[1, 1]);

        var xf = Matrix<float>.FromArray(new float[,] { { 1e4f, -1e4f, 1e4f } });
        var pf = new Matrix<float>(1, 3);
        RowOps.SoftmaxRows<float>(xf, pf);
        Assert.Equal(new[] { 0.5f, 0f, 0.5f }, pf.Span.ToArray());
    }

    [Fact]
    public void ShapeMismatches_Throw_NamingShapes_WithoutWriting()
    {
        var x = TestData.Uniform<float>(3, 4, 1);
        var y = new Matrix<float>(3, 5);
        y.Span.Fill(7);

        var e = Assert.Throws<ArgumentException>(() => RowOps.AddRowVector<float>(x, new float[4], y));
        Assert.Contains("[3x5]", e.Message);
        Assert.Contains("[3x4]", e.Message);
        e = Assert.Throws<ArgumentException>(() => RowOps.AddRowVector<float>(x, new float[5], x));
        Assert.Contains("5 elements", e.Message);
        e = Assert.Throws<ArgumentException>(() => RowOps.SoftmaxRows<float>(x, y));
        Assert.Contains("[3x4]", e.Message);
        Assert.All(y.Span.ToArray(), v => Assert.Equal(7f, v));

        var small = new float[] { 7, 7 };
        e = Assert.Throws<ArgumentException>(() => RowOps.ColumnSums<float>(x, small));
        Assert.Contains("[3x4]", e.Message);
        Assert.Throws<ArgumentException>(() => RowOps.RowMax<float>(x, small));
        Assert.Throws<ArgumentException>(() => RowOps.RowArgMax<float>(x, new int[2]));
        Assert.Equal(new float[] { 7, 7 }, small);

        Assert.Throws<ArgumentException>(() => RowOps.RowMax<float>(new Matrix<float>(2, 0), new float[2]));
    }

    [Fact]
    public void GatherRows_CopiesTheChosenRows_AndChecksIndicesFirst()
    {
        var x = TestData.Uniform<float>(20, 7, 3);
        int[] rows = [19, 0, 5, 5, 12, 3, 8, 1, 0];
        var batch = new Matrix<float>(12, 7);
        RowOps.GatherRows<float>(x, rows, batch);
        for (int r = 0; r < rows.Length; r++)
            Assert.Equal(x.Row(rows[r]).ToArray(), batch.Row(r).ToArray());
        Assert.All(batch.AsSpan().SliceRows(rows.Length, 3).Span.ToArray(), v => Assert.Equal(0f, v));

        var before = batch.Span.ToArray();
        Assert.Throws<ArgumentOutOfRangeException>(() => RowOps.GatherRows<float>(x, [0, 20], batch));
        Assert.Throws<ArgumentOutOfRangeException>(() => RowOps.GatherRows<float>(x, [-1], batch));
        Assert.Equal(before, batch.Span.ToArray());
        Assert.Throws<ArgumentException>(() => RowOps.GatherRows<float>(x, rows, new Matrix<float>(8, 7)));
        Assert.Throws<ArgumentException>(() => RowOps.GatherRows<float>(x, rows, new Matrix<float>(12, 6)));
    }

    /// <summary>A batch of 64 Ki elements or more is gathered by every core, each a run of the rows: the same copy.</summary>
    [Fact]
    public void GatherRows_OfALargeBatch_SplitAcrossTheCores_CopiesEveryRow()
    {
        var x = TestData.Uniform<double>(1000, 300, 4);
        var random = new Random(5);
        int[] rows = [.. Enumerable.Range(0, 301).Select(_ => random.Next(1000))];
        var batch = new Matrix<double>(301, 300);
        RowOps.GatherRows<double>(x, rows, batch);
        for (int r = 0; r < rows.Length; r++)
            Assert.Equal(x.Row(rows[r]).ToArray(), batch.Row(r).ToArray());
    }

    [Fact]
    public void PartialOverlaps_Throw()
    {
        var buffer = new float[20];
        Assert.Throws<ArgumentException>(() =>
            RowOps.SoftmaxRows(new ReadOnlyMatrixSpan<float>(buffer.AsSpan(0, 12), 3, 4), new MatrixSpan<float>(buffer.AsSpan(4, 12), 3, 4)));
        Assert.Throws<ArgumentException>(() =>
            RowOps.AddRowVector(new ReadOnlyMatrixSpan<float>(buffer.AsSpan(0, 12), 3, 4), buffer.AsSpan(12, 4), new MatrixSpan<float>(buffer.AsSpan(1, 12), 3, 4)));
        Assert.Throws<ArgumentException>(() =>
            RowOps.AddRowVector(new ReadOnlyMatrixSpan<float>(buffer.AsSpan(0, 12), 3, 4), buffer.AsSpan(8, 4), new MatrixSpan<float>(buffer.AsSpan(0, 12), 3, 4)));
        Assert.Throws<ArgumentException>(() =>
            RowOps.ColumnSums(new ReadOnlyMatrixSpan<float>(buffer.AsSpan(0, 12), 3, 4), buffer.AsSpan(10, 4)));
        Assert.Throws<ArgumentException>(() =>
            RowOps.RowMax(new ReadOnlyMatrixSpan<float>(buffer.AsSpan(0, 12), 3, 4), buffer.AsSpan(11, 3)));
    }

}
