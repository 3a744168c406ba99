using System.Runtime.CompilerServices;

namespace NeuralBasics;

/// <summary>
/// A writable row-major view of a <c>Rows x Columns</c> matrix over a span: element (i, j) is at
/// <c>i * Columns + j</c>. It owns nothing; it is what kernels write into.
/// </summary>
/// <typeparam name="T">The element type, usually <see cref="float"/> or <see cref="double"/>.</typeparam>
public readonly ref struct MatrixSpan<T>
{
    /// <summary>Views the first <paramref name="rows"/> x <paramref name="columns"/> elements of <paramref name="data"/> as a matrix.</summary>
    /// <exception cref="ArgumentException">The span holds fewer than rows x columns elements.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public MatrixSpan(Span<T> data, int rows, int columns)
    {
        Shape.CheckBuffer(data.Length, rows, columns, nameof(data));
        Span = data[..(rows * columns)];
        Rows = rows;
        Columns = columns;
    }

    /// <summary>The elements, row after row; exactly <c>Rows * Columns</c> long.</summary>
    public Span<T> Span { get; }

    /// <summary>The number of rows.</summary>
    public int Rows { get; }

    /// <summary>The number of columns.</summary>
    public int Columns { get; }

    /// <summary>True when the matrix has no elements.</summary>
    public bool IsEmpty => Span.IsEmpty;

    /// <summary>A reference to element (<paramref name="row"/>, <paramref name="column"/>).</summary>
    public ref T this[int row, int column]
    {
        get
        {
            CheckIndex(row, column);
            return ref Span[row * Columns + column];
        }
    }

    /// <summary>Row <paramref name="row"/> as a span of <see cref="Columns"/> elements.</summary>
    public Span<T> Row(int row)
    {
        if ((uint)row >= (uint)Rows)
            throw new ArgumentOutOfRangeException(nameof(row), row, $"Row index out of range for a {Shape.Of(Rows, Columns)} matrix.");
        return Span.Slice(row * Columns, Columns);
    }

    /// <summary>Rows <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> - 1 as a matrix (rows are contiguous, so this copies nothing).</summary>
    public MatrixSpan<T> SliceRows(int start, int count)
    {
        if ((uint)start > (uint)Rows || (uint)count > (uint)(Rows - start))
            throw new ArgumentOutOfRangeException(nameof(count), $"Rows {start}..{start + count} are outside a {Shape.Of(Rows, Columns)} matrix.");
        return new MatrixSpan<T>(Span.Slice(start * Columns, count * Columns), count, Columns);
    }

    /// <summary>Sets every element to <paramref name="value"/>.</summary>
    public void Fill(T value) => Span.Fill(value);

    /// <summary>Sets every element to zero.</summary>
    public void Clear() => Span.Clear();

    /// <summary>The read-only view of the same elements.</summary>
    public static implicit operator ReadOnlyMatrixSpan<T>(MatrixSpan<T> m) => new(m.Span, m.Rows, m.Columns);

    /// <summary>The shape, as <c>[rows x columns]</c>.</summary>
    public override string ToString() => Shape.Of(Rows, Columns);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckIndex(int row, int column)
    {
        if ((uint)row >= (uint)Rows || (uint)column >= (uint)Columns)
            throw new ArgumentOutOfRangeException(nameof(row), $"Index ({row}, {column}) is outside a {Shape.Of(Rows, Columns)} matrix.");
    }
}
