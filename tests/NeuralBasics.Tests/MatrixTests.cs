namespace NeuralBasics.Tests;

public class MatrixTests
{
    [Fact]
    public void Elements_AreRowMajor()
    {
        var m = Matrix<double>.FromArray(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        Assert.Equal(2, m.Rows);
        Assert.Equal(3, m.Columns);
        Assert.Equal(new double[] { 1, 2, 3, 4, 5, 6 }, m.Span.ToArray());
        Assert.Equal(6, m[1, 2]);
        Assert.Equal(new double[] { 4, 5, 6 }, m.Row(1).ToArray());
        m[0, 1] = 20;
        Assert.Equal(20, m.AsReadOnlySpan()[0, 1]);
        Assert.Equal("[2x3]", m.ToString());
    }

    [Fact]
    public void SliceRows_SharesMemory()
    {
        var m = Matrix<float>.FromArray(new float[,] { { 1, 2 }, { 3, 4 }, { 5, 6 } });
        var tail = m.SliceRows(1, 2);
        Assert.Equal("[2x2]", tail.ToString());
        tail[0, 0] = 30;
        Assert.Equal(30, m[1, 0]);
        Assert.Equal(new float[] { 30, 4, 5, 6 }, m.AsSpan().SliceRows(1, 2).Span.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => m.SliceRows(2, 2));
    }

    [Fact]
    public void Clone_CopiesElements()
    {
        var m = Matrix<float>.FromArray(new float[,] { { 1, 2 } });
        var copy = m.Clone();
        copy[0, 0] = 9;
        Assert.Equal(1, m[0, 0]);
    }

    [Fact]
    public void BadShapesAndIndices_Throw()
    {
        var e = Assert.Throws<ArgumentException>(() => new Matrix<float>(new float[5], 2, 3));
        Assert.Contains("[2x3]", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Matrix<float>(-1, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Matrix<float>(2, -3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Matrix<float>(1 << 16, 1 << 16));
        // Sizes are bounded by what an array can hold, not by int.MaxValue.
        Assert.Throws<ArgumentOutOfRangeException>(() => new Matrix<byte>(1, Array.MaxLength + 1));
        var m = new Matrix<float>(2, 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => m[2, 0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => m[0, 3]);
        Assert.Throws<ArgumentOutOfRangeException>(() => m.Row(-1));
    }

    [Fact]
    public void LongerBuffer_IsCutToTheShape()
    {
        var data = new float[10];
        var m = new Matrix<float>(data, 2, 3);
        Assert.Equal(6, m.Span.Length);
        var s = new MatrixSpan<float>(data, 3, 3);
        Assert.Equal(9, s.Span.Length);
    }

    /// <summary>
    /// Matrices of 85,000 bytes and more (large-object size) start on a 64-byte line and stay there
    /// through a compacting collection (AlignedMemory: the pinned heap), zeroed; smaller ones are
    /// plain arrays, cheap to collect.
    /// </summary>
    [Fact]
    public unsafe void LargeMatrices_StartOnACacheLine_AndStayThere()
    {
        var matrices = Enumerable.Range(0, 20).Select(i => new Matrix<float>(128 + i, 170 + i)).ToList();
        var garbage = Enumerable.Range(0, 1000).Select(i => new float[i]).ToList();
        garbage = null;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        foreach (var m in matrices)
        {
            fixed (float* p = m.Span)
                Assert.Equal(0, (nint)p % 64);
            Assert.True(m.Span.IndexOfAnyExcept(0f) < 0);
            Assert.Equal(m.Rows * m.Columns, m.Memory.Length);
        }
        var small = new Matrix<double>(100, 100);
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray<double>(small.Memory, out var segment) && segment.Offset == 0 && segment.Count == 10_000);
        Assert.Equal(0, GC.GetGeneration(segment.Array!));
    }
}
