using NeuralBasics.Tables;

namespace NeuralBasics.Csv;

/// <summary>How <see cref="CsvTable"/> reads a file of mixed columns.</summary>
public sealed record CsvTableOptions
{
    /// <summary>The cell texts that mean "missing" (default: empty, <c>NA</c>, <c>N/A</c>, <c>?</c>, <c>null</c>, <c>NaN</c>), compared exactly after trimming.</summary>
    public static IReadOnlyList<string> DefaultMissingValues { get; } = ["", "NA", "N/A", "?", "null", "NaN"];

    /// <summary>Whether the first line names the columns (default true); without it the columns are named <c>column1</c>, <c>column2</c>, ...</summary>
    public bool HasHeader { get; init; } = true;

    /// <summary>The separator; null (the default) detects it from the first line (comma, semicolon, tab, ...).</summary>
    public char? Separator { get; init; }

    /// <summary>The cell texts read as missing values (an empty cell always is).</summary>
    public IReadOnlyCollection<string> MissingValues { get; init; } = DefaultMissingValues;

    /// <summary>
    /// The kind of some columns, by name. A column not listed is numeric when every cell that is not
    /// missing is a finite number, categorical otherwise; <see cref="ColumnKind.Ignored"/> skips a column.
    /// </summary>
    public IReadOnlyDictionary<string, ColumnKind>? Kinds { get; init; }

    /// <summary>The most distinct values a categorical column may hold (default 10,000); more is refused, naming the line and column.</summary>
    public int MaxCategories { get; init; } = 10_000;
}
