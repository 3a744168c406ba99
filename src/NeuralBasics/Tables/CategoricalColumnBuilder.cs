namespace NeuralBasics.Tables;

/// <summary>
/// Builds a categorical <see cref="TableColumn"/> one cell at a time, as a reader does: each
/// distinct value gets a code in order of first appearance, and text already seen is looked up
/// without allocating a string. It refuses more than a set number of distinct values, so a hostile
/// or mislabelled column (an identifier, free text) cannot allocate without bound.
/// </summary>
public sealed class CategoricalColumnBuilder
{
    private readonly Dictionary<string, int> _codes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly List<string> _levels = [];
    private int[] _rows;

    /// <summary>
    /// A builder of the column <paramref name="name"/> holding at most <paramref name="maxCategories"/>
    /// distinct values, with room for <paramref name="capacity"/> rows before it grows.
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty, the maximum is below 1, or the capacity is negative.</exception>
    public CategoricalColumnBuilder(string name, int maxCategories = int.MaxValue, int capacity = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Guard.AtLeast(maxCategories, 1, "The maximum number of categories");
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Name = name;
        MaxCategories = maxCategories;
        _lookup = _codes.GetAlternateLookup<ReadOnlySpan<char>>();
        _rows = new int[capacity];
    }

    /// <summary>The column's name.</summary>
    public string Name { get; }

    /// <summary>The most distinct values the column may hold.</summary>
    public int MaxCategories { get; }

    /// <summary>The rows added so far.</summary>
    public int Count { get; private set; }

    /// <summary>The distinct values added so far.</summary>
    public int CategoryCount => _levels.Count;

    /// <summary>Adds a row holding <paramref name="value"/> (empty: missing).</summary>
    /// <returns>False, adding nothing, when the value is new and the column already holds <see cref="MaxCategories"/> values.</returns>
    public bool TryAdd(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty)
        {
            Append(-1);
            return true;
        }
        if (!_lookup.TryGetValue(value, out int code))
        {
            if (_levels.Count >= MaxCategories)
                return false;
            code = _levels.Count;
            string text = value.ToString();
            _codes.Add(text, code);
            _levels.Add(text);
        }
        Append(code);
        return true;
    }

    /// <summary>Adds a row holding <paramref name="value"/> when it is a category already seen; adds nothing and returns false otherwise.</summary>
    public bool TryAddKnown(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty || !_lookup.TryGetValue(value, out int code))
            return false;
        Append(code);
        return true;
    }

    /// <summary>Adds a row whose value is missing.</summary>
    public void AddMissing() => Append(-1);

    private void Append(int code)
    {
        if (Count == _rows.Length)
            Array.Resize(ref _rows, Math.Max(16, (int)Math.Min(Array.MaxLength, 2L * _rows.Length)));
        _rows[Count++] = code;
    }

    /// <summary>Makes room for <paramref name="rows"/> rows in all, so a reader that can estimate its row count grows the buffer once.</summary>
    public void EnsureCapacity(int rows)
    {
        if (rows > _rows.Length)
            Array.Resize(ref _rows, Math.Min(rows, Array.MaxLength));
    }

    /// <summary>The column of the rows added so far (over the builder's buffer, not a copy); the builder's rows start empty again, its categories stay.</summary>
    public TableColumn Build()
    {
        var column = TableColumn.FromCodes(Name, _rows, [.. _levels], Count);
        _rows = [];
        Count = 0;
        return column;
    }
}
