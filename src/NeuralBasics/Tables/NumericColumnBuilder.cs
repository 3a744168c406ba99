using System.Globalization;

namespace NeuralBasics.Tables;

/// <summary>
/// Builds a numeric <see cref="TableColumn"/> one cell at a time, as a reader does, into one
/// growing buffer that <see cref="Build"/> hands to the column without a copy (give the expected
/// row count as the capacity, or to <see cref="EnsureCapacity"/>, and it grows at most once).
/// </summary>
public sealed class NumericColumnBuilder
{
    private double[] _values;

    /// <summary>A builder of the column <paramref name="name"/>, with room for <paramref name="capacity"/> rows before it grows.</summary>
    /// <exception cref="ArgumentException">The name is empty, or the capacity is negative.</exception>
    public NumericColumnBuilder(string name, int capacity = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Name = name;
        _values = new double[capacity];
    }

    /// <summary>The column's name.</summary>
    public string Name { get; }

    /// <summary>The rows added so far.</summary>
    public int Count { get; private set; }

    /// <summary>Adds a row holding <paramref name="value"/> (NaN: missing).</summary>
    /// <exception cref="ArgumentException">The value is infinite.</exception>
    public void Add(double value)
    {
        if (double.IsInfinity(value))
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Row {Count} of column '{Name}' is {value}; numbers must be finite (NaN marks a missing value)."), nameof(value));
        if (Count == _values.Length)
            Array.Resize(ref _values, Math.Max(16, (int)Math.Min(Array.MaxLength, 2L * _values.Length)));
        _values[Count++] = value;
    }

    /// <summary>Adds a row whose value is missing.</summary>
    public void AddMissing() => Add(double.NaN);

    /// <summary>Makes room for <paramref name="rows"/> rows in all, so a reader that can estimate its row count grows the buffer once.</summary>
    public void EnsureCapacity(int rows)
    {
        if (rows > _values.Length)
            Array.Resize(ref _values, Math.Min(rows, Array.MaxLength));
    }

    /// <summary>The column of the rows added so far (over the builder's buffer, not a copy); the builder starts empty again.</summary>
    public TableColumn Build()
    {
        var column = TableColumn.FromNumbers(Name, _values, Count);
        _values = [];
        Count = 0;
        return column;
    }
}
