namespace NeuralBasics;

/// <summary>
/// A read-only row-major view of a <c>Rows x Columns</c> matrix over a span: element (i, j) is at
/// <c>i * Columns + j</c>. It is what kernels read from.
/// </summary>
/// <typeparam name="T">The element type, usually <see cref="float"/> or <see cref="double"/>.</typeparam>
public readonly ref struct ReadOnlyMatrixSpan<T>
{
    /// <summary>Views the first <paramref name="rows"/> x <paramref name="columns"/> elements of <paramref name="data"/> as a matrix.</summary>
    /// <exception cref="ArgumentException">The span holds fewer than rows x columns elements.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public ReadOnlyMatrixSpan(ReadOnlySpan<T> data, int rows, int columns)
    {
        Shape.CheckBuffer(data.Length, rows, columns, nameof(data));
        Span = data[..(rows * columns)];
        Rows = rows;
        Columns = columns;
    }

    /// <summary>The elements, row after row; exactly <c>Rows * Columns</c> long.</summary>
    public ReadOnlySpan<T> Span { get; }

    /// <summary>The number of rows.</summary>
    public int Rows { get; }

    /// <summary>The number of columns.</summary>
    public int Columns { get; }

    /// <summary>True when the matrix has no elements.</summary>
    public bool IsEmpty => Span.IsEmpty;

    /// <summary>Element (<paramref name="row"/>, <paramref name="column"/>).</summary>
    public T this[int row, int column]
    {
        get
        {
            if ((uint)row >= (uint)Rows || (uint)column >= (uint)Columns)
                throw new ArgumentOutOfRangeException(nameof(row), $"Index ({row}, {column}) is outside a {Shape.Of(Rows, Columns)} matrix.");
            return Span[row * Columns + column];
        }
    }

    /// <summary>Row <paramref name="row"/> as a span of <see cref="Columns"/> elements.</summary>
    public ReadOnlySpan<T> Row(int row)
    {
        if ((uint)row >= (uint)Rows)
            throw new ArgumentOutOfRangeException(nameof(row), row, $"Row index out of range for a {Shape.Of(Rows, Columns)} matrix.");
        return Span.Slice(row * Columns, Columns);
    }

    /// <summary>Rows <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> - 1 as a matrix (rows are contiguous, so this copies nothing).</summary>
    public ReadOnlyMatrixSpan<T> SliceRows(int start, int count)
    {
        if ((uint)start > (uint)Rows || (uint)count > (uint)(Rows - start))
            throw new ArgumentOutOfRangeException(nameof(count), $"Rows {start}..{start + count} are outside a {Shape.Of(Rows, Columns)} matrix.");
        return new ReadOnlyMatrixSpan<T>(Span.Slice(start * Columns, count * Columns), count, Columns);
    }

    /// <summary>The shape, as <c>[rows x columns]</c>.</summary>
    public override string ToString() => Shape.Of(Rows, Columns);
}
