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
    private readonly List<int> _rows = [];

    /// <summary>A builder of the column <paramref name="name"/> holding at most <paramref name="maxCategories"/> distinct values.</summary>
    /// <exception cref="ArgumentException">The name is empty, or the maximum is below 1.</exception>
    public CategoricalColumnBuilder(string name, int maxCategories = int.MaxValue)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Guard.AtLeast(maxCategories, 1, "The maximum number of categories");
        Name = name;
        MaxCategories = maxCategories;
        _lookup = _codes.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The column's name.</summary>
    public string Name { get; }

    /// <summary>The most distinct values the column may hold.</summary>
    public int MaxCategories { get; }

    /// <summary>The rows added so far.</summary>
    public int Count => _rows.Count;

    /// <summary>The distinct values added so far.</summary>
    public int CategoryCount => _levels.Count;

    /// <summary>Adds a row holding <paramref name="value"/> (empty: missing).</summary>
    /// <returns>False, adding nothing, when the value is new and the column already holds <see cref="MaxCategories"/> values.</returns>
    public bool TryAdd(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty)
        {
            _rows.Add(-1);
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
        _rows.Add(code);
        return true;
    }

    /// <summary>Adds a row whose value is missing.</summary>
    public void AddMissing() => _rows.Add(-1);

    /// <summary>The column of the rows added so far.</summary>
    public TableColumn Build() => TableColumn.FromCodes(Name, [.. _rows], [.. _levels]);
}
