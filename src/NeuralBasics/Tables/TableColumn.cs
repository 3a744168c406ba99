using System.Globalization;

namespace NeuralBasics.Tables;

/// <summary>
/// One named column of a <see cref="Table"/>: numbers, with <see cref="double.NaN"/> for a missing
/// cell, or categories, stored as a code per row into the column's distinct <see cref="Levels"/>
/// (so a million rows of a few categories hold a million small integers, not a million strings).
/// Immutable.
/// </summary>
public sealed class TableColumn
{
    private readonly double[]? _numbers;
    private readonly int[]? _codes;
    private readonly string[]? _levels;

    /// <summary>A column over the first <paramref name="count"/> values of its array (a reader's buffer may be longer).</summary>
    private TableColumn(string name, double[]? numbers, int[]? codes, string[]? levels, int count)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        _numbers = numbers;
        _codes = codes;
        _levels = levels;
        Count = count;
    }

    /// <summary>A numeric column holding a copy of <paramref name="values"/>; NaN marks a missing cell.</summary>
    /// <exception cref="ArgumentException">The name is empty, or a value is infinite.</exception>
    public static TableColumn Numeric(string name, ReadOnlySpan<double> values)
    {
        var builder = new NumericColumnBuilder(name, values.Length);
        foreach (double value in values)
            builder.Add(value);
        return builder.Build();
    }

    /// <summary>A categorical column of <paramref name="values"/>; null or an empty string marks a missing cell.</summary>
    /// <exception cref="ArgumentException">The name is empty.</exception>
    public static TableColumn Categorical(string name, IEnumerable<string?> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var builder = new CategoricalColumnBuilder(name);
        foreach (string? value in values)
            builder.TryAdd(value.AsSpan());
        return builder.Build();
    }

    /// <summary>A numeric column over the first <paramref name="count"/> of <paramref name="values"/> (owned, not copied; already checked finite or NaN).</summary>
    internal static TableColumn FromNumbers(string name, double[] values, int count = -1) =>
        new(name, values, null, null, count < 0 ? values.Length : count);

    /// <summary>A categorical column over the first <paramref name="count"/> of <paramref name="codes"/> (−1 missing) into <paramref name="levels"/> (owned, not copied).</summary>
    internal static TableColumn FromCodes(string name, int[] codes, string[] levels, int count = -1) =>
        new(name, null, codes, levels, count < 0 ? codes.Length : count);

    /// <summary>The column's name.</summary>
    public string Name { get; }

    /// <summary><see cref="ColumnKind.Numeric"/> or <see cref="ColumnKind.Categorical"/>.</summary>
    public ColumnKind Kind => _numbers is not null ? ColumnKind.Numeric : ColumnKind.Categorical;

    /// <summary>The number of rows.</summary>
    public int Count { get; }

    /// <summary>A categorical column's distinct values in order of first appearance (empty for a numeric column).</summary>
    public IReadOnlyList<string> Levels => _levels ?? [];

    /// <summary>The number of missing cells.</summary>
    public int MissingCount
    {
        get
        {
            int missing = 0;
            if (_numbers is not null)
            {
                foreach (double value in Numbers)
                    missing += double.IsNaN(value) ? 1 : 0;
            }
            else
            {
                foreach (int code in Codes)
                    missing += code < 0 ? 1 : 0;
            }
            return missing;
        }
    }

    /// <summary>Whether row <paramref name="row"/> is missing.</summary>
    public bool IsMissing(int row) => _numbers is not null ? double.IsNaN(Numbers[row]) : Codes[row] < 0;

    /// <summary>The number in row <paramref name="row"/> (NaN when missing).</summary>
    /// <exception cref="InvalidOperationException">The column is categorical.</exception>
    public double Number(int row) =>
        _numbers is not null ? Numbers[row] : throw new InvalidOperationException($"Column '{Name}' is categorical; read it with Text.");

    /// <summary>The category in row <paramref name="row"/> (null when missing).</summary>
    /// <exception cref="InvalidOperationException">The column is numeric.</exception>
    public string? Text(int row) =>
        _codes is not null ? (Codes[row] < 0 ? null : _levels![Codes[row]])
        : throw new InvalidOperationException($"Column '{Name}' is numeric; read it with Number.");

    /// <summary>The value of row <paramref name="row"/> as an object: a double, a string, or null when missing.</summary>
    public object? Value(int row) => Kind == ColumnKind.Numeric ? (IsMissing(row) ? null : Number(row)) : Text(row);

    /// <summary>
    /// Row <paramref name="row"/>'s value as text, for grouping and class lookup: a category as it is,
    /// a number in round-trip invariant format; null when missing.
    /// </summary>
    internal string? Key(int row) =>
        _numbers is not null ? (IsMissing(row) ? null : Numbers[row].ToString("R", CultureInfo.InvariantCulture)) : Text(row);

    /// <summary>The numbers of a numeric column (NaN when missing).</summary>
    internal ReadOnlySpan<double> Numbers => _numbers.AsSpan(0, _numbers is null ? 0 : Count);

    /// <summary>The codes of a categorical column into <see cref="Levels"/> (−1 when missing).</summary>
    internal ReadOnlySpan<int> Codes => _codes.AsSpan(0, _codes is null ? 0 : Count);

    /// <summary>The rows <paramref name="rows"/>, in that order, as a new column with the same levels.</summary>
    internal TableColumn Select(ReadOnlySpan<int> rows)
    {
        if (_numbers is not null)
        {
            var source = Numbers;
            var numbers = new double[rows.Length];
            for (int i = 0; i < rows.Length; i++)
                numbers[i] = source[rows[i]];
            return FromNumbers(Name, numbers);
        }
        var sourceCodes = Codes;
        var codes = new int[rows.Length];
        for (int i = 0; i < rows.Length; i++)
            codes[i] = sourceCodes[rows[i]];
        return FromCodes(Name, codes, _levels!);
    }

    /// <summary>Shows the name, kind and size.</summary>
    public override string ToString()
    {
        string categories = Kind == ColumnKind.Categorical ? $", {Levels.Count} categories" : "";
        string missing = MissingCount > 0 ? $", {MissingCount} missing" : "";
        return $"{Name}: {Kind.ToString().ToLowerInvariant()}, {Count} rows{categories}{missing}";
    }
}
