namespace NeuralBasics.Csv;

/// <summary>How <see cref="CsvDataSet"/> reads a file.</summary>
public sealed record CsvDataSetOptions
{
    /// <summary>The label column's header name; when null, the column at <see cref="LabelColumnIndex"/>.</summary>
    public string? LabelColumn { get; init; }

    /// <summary>The label column's 0-based position when <see cref="LabelColumn"/> is null (default 0, the first).</summary>
    public int LabelColumnIndex { get; init; }

    /// <summary>Whether the first line names the columns (default true).</summary>
    public bool HasHeader { get; init; } = true;

    /// <summary>The separator; null (the default) detects it from the first line (comma, semicolon, tab, ...).</summary>
    public char? Separator { get; init; }

    /// <summary>
    /// The classes by name: a label cell must be one of these, and its position is the class index.
    /// When null, labels must be whole numbers 0, 1, 2, ... that are the class indices.
    /// </summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>With numeric labels, the number of classes; null means the largest label + 1.</summary>
    public int? ClassCount { get; init; }
}
