using System.Globalization;

namespace NeuralBasics.Tables;

/// <summary>
/// How objects of your own type become table rows: a selector per column, declared once, numbers
/// (<c>null</c> or NaN for missing) or categories (<c>null</c> or empty for missing). No reflection,
/// so it works under trimming and Native AOT. Immutable: each call returns a new mapping.
/// </summary>
/// <example>
/// <code>
/// var mapping = new TableMapping&lt;Penguin&gt;()
///     .Category("species", p =&gt; p.Species)
///     .Category("island", p =&gt; p.Island)
///     .Number("bill_length_mm", p =&gt; p.BillLength);
/// Table table = mapping.ToTable(penguins);
/// </code>
/// </example>
/// <typeparam name="TRow">The type of your objects.</typeparam>
public sealed class TableMapping<TRow>
{
    private readonly (string Name, Func<TRow, double?>? Number, Func<TRow, string?>? Text)[] _columns;

    /// <summary>A mapping of no columns yet.</summary>
    public TableMapping() => _columns = [];

    private TableMapping((string, Func<TRow, double?>?, Func<TRow, string?>?)[] columns) => _columns = columns;

    /// <summary>The column names, in order.</summary>
    public IReadOnlyList<string> Columns => [.. _columns.Select(c => c.Name)];

    /// <summary>This mapping and a numeric column <paramref name="column"/> read by <paramref name="selector"/>.</summary>
    /// <exception cref="ArgumentException">The name is empty or already mapped.</exception>
    public TableMapping<TRow> Number(string column, Func<TRow, double?> selector)
    {
        ArgumentNullException.ThrowIfNull(selector);
        return With(column, selector, null);
    }

    /// <summary>This mapping and a categorical column <paramref name="column"/> read by <paramref name="selector"/>.</summary>
    /// <exception cref="ArgumentException">The name is empty or already mapped.</exception>
    public TableMapping<TRow> Category(string column, Func<TRow, string?> selector)
    {
        ArgumentNullException.ThrowIfNull(selector);
        return With(column, null, selector);
    }

    private TableMapping<TRow> With(string column, Func<TRow, double?>? number, Func<TRow, string?>? text)
    {
        ArgumentException.ThrowIfNullOrEmpty(column);
        if (_columns.Any(c => c.Name == column))
            throw new ArgumentException($"The column '{column}' is already mapped.", nameof(column));
        return new([.. _columns, (column, number, text)]);
    }

    /// <summary>A table of <paramref name="rows"/>, one column per selector.</summary>
    /// <exception cref="ArgumentException">No column is mapped, or a selector gave an infinite number; the message names the row and column.</exception>
    public Table ToTable(IEnumerable<TRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (_columns.Length == 0)
            throw new ArgumentException("The mapping has no columns; add them with Number and Category.", nameof(rows));
        var numbers = _columns.Select(c => c.Number is null ? null : new NumericColumnBuilder(c.Name)).ToArray();
        var categories = _columns.Select(c => c.Text is null ? null : new CategoricalColumnBuilder(c.Name)).ToArray();
        foreach (var row in rows)
        {
            for (int j = 0; j < _columns.Length; j++)
            {
                if (numbers[j] is { } builder)
                    builder.Add(_columns[j].Number!(row) ?? double.NaN);
                else
                    categories[j]!.TryAdd((_columns[j].Text!(row) ?? "").AsSpan().Trim());
            }
        }
        return new Table(_columns.Select((_, j) => numbers[j]?.Build() ?? categories[j]!.Build()));
    }

    /// <summary>One object as a record (column name → a double, a string, or null when missing), as <see cref="Models.Classifier{T}.Classify(IReadOnlyDictionary{string, object?})"/> takes.</summary>
    /// <exception cref="ArgumentException">A selector gave an infinite number.</exception>
    public IReadOnlyDictionary<string, object?> ToRecord(TRow row)
    {
        var record = new Dictionary<string, object?>(_columns.Length, StringComparer.Ordinal);
        foreach (var (name, number, text) in _columns)
        {
            if (number is not null)
            {
                double value = Checked(number(row) ?? double.NaN, 0, name);
                record[name] = double.IsNaN(value) ? null : value;
            }
            else
            {
                record[name] = text!(row) is { Length: > 0 } category ? category : null;
            }
        }
        return record;
    }

    private static double Checked(double value, int row, string column) =>
        double.IsInfinity(value)
            ? throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Row {row}, column '{column}': {value}; numbers must be finite (null or NaN for missing)."))
            : value;
}
