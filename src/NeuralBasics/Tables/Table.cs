using System.Globalization;
using NeuralBasics.Data;

namespace NeuralBasics.Tables;

/// <summary>
/// A table of named columns, numeric or categorical, with missing cells allowed: what a CSV file
/// or a query gives before any encoding. Immutable. A <see cref="TableSchema"/> fitted on the
/// training rows turns it into features for a model.
/// </summary>
public sealed class Table
{
    private readonly TableColumn[] _columns;
    private readonly Dictionary<string, int> _index;

    /// <summary>A table of <paramref name="columns"/>, which must have distinct names and the same number of rows.</summary>
    /// <exception cref="ArgumentException">No columns, a repeated name, or columns of different lengths.</exception>
    public Table(IEnumerable<TableColumn> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        _columns = [.. columns];
        if (_columns.Length == 0)
            throw new ArgumentException("A table needs at least one column.", nameof(columns));
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int j = 0; j < _columns.Length; j++)
        {
            var column = _columns[j] ?? throw new ArgumentException($"Column {j} is null.", nameof(columns));
            if (!_index.TryAdd(column.Name, j))
                throw new ArgumentException($"The column name '{column.Name}' appears twice; each column needs its own name.", nameof(columns));
            if (column.Count != _columns[0].Count)
                throw new ArgumentException(
                    $"Column '{column.Name}' has {column.Count} rows but '{_columns[0].Name}' has {_columns[0].Count}.", nameof(columns));
        }
    }

    /// <summary>The columns, in order.</summary>
    public IReadOnlyList<TableColumn> Columns => _columns;

    /// <summary>The number of rows.</summary>
    public int RowCount => _columns[0].Count;

    /// <summary>The column named <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">There is no such column; the message lists those there are.</exception>
    public TableColumn this[string name] =>
        TryGetColumn(name, out var column) ? column
        : throw new ArgumentException($"The table has no column '{name}'; it has: {string.Join(", ", _columns.Select(c => c.Name))}.", nameof(name));

    /// <summary>Finds the column named <paramref name="name"/>.</summary>
    public bool TryGetColumn(string name, out TableColumn column)
    {
        ArgumentNullException.ThrowIfNull(name);
        bool found = _index.TryGetValue(name, out int j);
        column = found ? _columns[j] : null!;
        return found;
    }

    /// <summary>The rows <paramref name="rows"/>, in that order, as a new table.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A row index is outside the table.</exception>
    public Table SelectRows(ReadOnlySpan<int> rows)
    {
        foreach (int row in rows)
            if ((uint)row >= (uint)RowCount)
                throw new ArgumentOutOfRangeException(nameof(rows), row, $"Row {row} is outside the table's {RowCount} rows.");
        var selected = new TableColumn[_columns.Length];
        for (int j = 0; j < _columns.Length; j++)
            selected[j] = _columns[j].Select(rows);
        return new Table(selected);
    }

    /// <summary>
    /// A stratified split by the values of <paramref name="column"/> (usually the label): each
    /// value contributes <c>round(fraction·count)</c> of its rows, chosen at random with
    /// <paramref name="seed"/>, to the validation part; rows keep their order within each part. The
    /// same choice as <see cref="DataSplit.Stratified{T}"/> makes for the same labels.
    /// </summary>
    /// <exception cref="ArgumentException">There is no such column, it has a missing value, or one part would be empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The fraction is not strictly between 0 and 1.</exception>
    public (Table Train, Table Validation) Split(string column, double validationFraction, int seed = 0)
    {
        var (groups, groupCount) = Groups(this[column]);
        bool[] inValidation = DataSplit.ValidationMask(groups, groupCount, validationFraction, seed);
        var train = new List<int>();
        var validation = new List<int>();
        for (int i = 0; i < inValidation.Length; i++)
            (inValidation[i] ? validation : train).Add(i);
        return (SelectRows([.. train]), SelectRows([.. validation]));
    }

    /// <summary>Each row's group: a categorical value's rank in ordinal order, or a number's rank among the distinct numbers.</summary>
    private static (int[] Groups, int Count) Groups(TableColumn column)
    {
        int missing = Enumerable.Range(0, column.Count).FirstOrDefault(column.IsMissing, -1);
        if (missing >= 0)
            throw new ArgumentException($"Row {missing} of column '{column.Name}' is missing; a stratified split needs a value in every row.", nameof(column));
        var keys = Enumerable.Range(0, column.Count).Select(i => column.Key(i)!).ToArray();
        var ranks = keys.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select((key, rank) => (key, rank))
            .ToDictionary(p => p.key, p => p.rank, StringComparer.Ordinal);
        return ([.. keys.Select(k => ranks[k])], ranks.Count);
    }

    /// <summary>Shows the size and the columns.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{RowCount} rows x {_columns.Length} columns ({string.Join(", ", _columns.Select(c => c.Name))})");
}
