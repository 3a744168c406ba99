namespace NeuralBasics;

/// <summary>
/// A row-major <c>Rows x Columns</c> matrix over <see cref="Memory{T}"/>: element (i, j) is at
/// <c>i * Columns + j</c>. Unlike <see cref="MatrixSpan{T}"/> it can be stored in fields and passed
/// to other threads. Copying the struct copies the view, not the elements.
/// </summary>
/// <typeparam name="T">The element type, usually <see cref="float"/> or <see cref="double"/>.</typeparam>
public readonly struct Matrix<T>
{
    /// <summary>Allocates a zeroed <paramref name="rows"/> x <paramref name="columns"/> matrix (from 85,000 bytes on, pinned and starting on a 64-byte cache line).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative, or the product is more than an array can hold.</exception>
    public Matrix(int rows, int columns)
    {
        Shape.CheckAllocation(rows, columns);
        Memory = AlignedMemory.Allocate<T>(rows * columns);
        Rows = rows;
        Columns = columns;
    }

    /// <summary>Views the first <paramref name="rows"/> x <paramref name="columns"/> elements of <paramref name="data"/> as a matrix.</summary>
    /// <exception cref="ArgumentException">The buffer holds fewer than rows x columns elements.</exception>
    public Matrix(Memory<T> data, int rows, int columns)
    {
        Shape.CheckBuffer(data.Length, rows, columns, nameof(data));
        Memory = data[..(rows * columns)];
        Rows = rows;
        Columns = columns;
    }

    /// <summary>Copies a rectangular array into a new matrix.</summary>
    public static Matrix<T> FromArray(T[,] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var m = new Matrix<T>(values.GetLength(0), values.GetLength(1));
        var span = m.Span;
        int k = 0;
        foreach (T v in values)
            span[k++] = v;
        return m;
    }

    /// <summary>The elements, row after row; exactly <c>Rows * Columns</c> long.</summary>
    public Memory<T> Memory { get; }

    /// <summary>The elements as a span, row after row.</summary>
    public Span<T> Span => Memory.Span;

    /// <summary>The number of rows.</summary>
    public int Rows { get; }

    /// <summary>The number of columns.</summary>
    public int Columns { get; }

    /// <summary>A reference to element (<paramref name="row"/>, <paramref name="column"/>), for reading and writing.</summary>
    public ref T this[int row, int column] => ref AsSpan()[row, column];

    /// <summary>Row <paramref name="row"/> as a span of <see cref="Columns"/> elements.</summary>
    public Span<T> Row(int row) => AsSpan().Row(row);

    /// <summary>Rows <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> - 1, sharing this matrix's memory.</summary>
    public Matrix<T> SliceRows(int start, int count)
    {
        if ((uint)start > (uint)Rows || (uint)count > (uint)(Rows - start))
            throw new ArgumentOutOfRangeException(nameof(count), $"Rows {start}..{start + count} are outside a {Shape.Of(Rows, Columns)} matrix.");
        return new Matrix<T>(Memory.Slice(start * Columns, count * Columns), count, Columns);
    }

    /// <summary>A writable span view of this matrix.</summary>
    public MatrixSpan<T> AsSpan() => new(Memory.Span, Rows, Columns);

    /// <summary>A read-only span view of this matrix.</summary>
    public ReadOnlyMatrixSpan<T> AsReadOnlySpan() => new(Memory.Span, Rows, Columns);

    /// <summary>A new matrix with a copy of the elements.</summary>
    public Matrix<T> Clone()
    {
        var copy = new Matrix<T>(Rows, Columns);
        Span.CopyTo(copy.Span);
        return copy;
    }

    /// <summary>The writable span view of a matrix.</summary>
    public static implicit operator MatrixSpan<T>(Matrix<T> m) => m.AsSpan();

    /// <summary>The read-only span view of a matrix.</summary>
    public static implicit operator ReadOnlyMatrixSpan<T>(Matrix<T> m) => m.AsReadOnlySpan();

    /// <summary>The shape, as <c>[rows x columns]</c>.</summary>
    public override string ToString() => Shape.Of(Rows, Columns);
}
