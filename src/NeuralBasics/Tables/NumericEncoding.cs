using System.Globalization;
using System.Numerics;
using NeuralBasics.Components;

namespace NeuralBasics.Tables;

/// <summary>
/// A numeric column as one standardized feature: a missing value is replaced by
/// <see cref="Fill"/>, then <c>x' = (x − μ) / σ</c>; with <see cref="Indicator"/>, a second feature
/// is 1 where the value was missing and 0 elsewhere (scikit-learn's
/// <c>SimpleImputer(add_indicator=True)</c> followed by <c>StandardScaler</c>). Computed in double.
/// </summary>
public sealed class NumericEncoding : IColumnEncoding, IOnnxNodes
{
    /// <summary>An encoding with known values (as loaded from a file).</summary>
    /// <exception cref="ArgumentException">The column name is empty, a value is not finite, or the scale is not positive.</exception>
    public NumericEncoding(string column, double fill, double mean, double scale, bool indicator)
    {
        ArgumentException.ThrowIfNullOrEmpty(column);
        if (!double.IsFinite(fill) || !double.IsFinite(mean))
            throw new ArgumentException($"Column '{column}': the fill value {fill} and mean {mean} must be finite.", nameof(fill));
        if (!(scale > 0) || !double.IsFinite(scale))
            throw new ArgumentException($"Column '{column}': the scale is {scale}; it must be positive and finite.", nameof(scale));
        Column = column;
        Fill = fill;
        Mean = mean;
        Scale = scale;
        Indicator = indicator;
        FeatureNames = indicator ? [column, column + ".missing"] : [column];
    }

    /// <summary>
    /// Fits on the training rows of <paramref name="column"/>: the fill value (mean or median of the
    /// values present), then μ and the population σ of the column with the gaps filled (σ = 1 when it
    /// never varies).
    /// </summary>
    /// <exception cref="ArgumentException">The column is not numeric, or has no values at all.</exception>
    public static NumericEncoding Fit(TableColumn column, NumericImputation imputation = NumericImputation.Mean, bool indicator = false)
    {
        ArgumentNullException.ThrowIfNull(column);
        if (column.Kind != ColumnKind.Numeric)
            throw new ArgumentException($"Column '{column.Name}' is {column.Kind.ToString().ToLowerInvariant()}, not numeric.", nameof(column));
        var present = new List<double>(column.Count);
        foreach (double value in column.Numbers)
            if (!double.IsNaN(value))
                present.Add(value);
        if (present.Count == 0)
            throw new ArgumentException($"Column '{column.Name}' has no values in the training rows; ignore it.", nameof(column));
        double fill = imputation == NumericImputation.Median ? Median(present) : present.Average();
        double sum = 0;
        foreach (double value in column.Numbers)
            sum += double.IsNaN(value) ? fill : value;
        double mean = sum / column.Count, squares = 0;
        foreach (double value in column.Numbers)
        {
            double deviation = (double.IsNaN(value) ? fill : value) - mean;
            squares += deviation * deviation;
        }
        double sigma = Math.Sqrt(squares / column.Count);
        return new NumericEncoding(column.Name, fill, mean, sigma > 0 && double.IsFinite(sigma) ? sigma : 1.0, indicator);
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        int middle = values.Count / 2;
        return values.Count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }

    /// <summary>Reads an encoding from its description.</summary>
    internal static NumericEncoding Read(ComponentDescription description)
    {
        try
        {
            return new NumericEncoding(description.Text("column"), description.Number("fill"), description.Number("mean"),
                description.Number("scale"), description.Bool("indicator"));
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"A numeric encoding is invalid: {e.Message}", e);
        }
    }

    /// <inheritdoc/>
    public string Kind => "numeric";

    /// <inheritdoc/>
    public void Describe(ComponentDescription description)
    {
        description.Set("column", Column);
        description.Set("fill", Fill);
        description.Set("mean", Mean);
        description.Set("scale", Scale);
        description.Set("indicator", Indicator);
    }

    /// <inheritdoc/>
    public string Column { get; }

    /// <inheritdoc/>
    public ColumnKind InputKind => ColumnKind.Numeric;

    /// <summary>The value a missing number is replaced with.</summary>
    public double Fill { get; }

    /// <summary>μ, subtracted after filling.</summary>
    public double Mean { get; }

    /// <summary>σ, divided by after centering.</summary>
    public double Scale { get; }

    /// <summary>Whether a second feature marks the rows where the value was missing.</summary>
    public bool Indicator { get; }

    /// <inheritdoc/>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <inheritdoc/>
    public void Encode<T>(TableColumn column, int firstRow, MatrixSpan<T> destination, int offset)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(column);
        if (column.Kind != ColumnKind.Numeric)
            throw new ArgumentException($"Column '{Column}' should be numeric but the table's is categorical.", nameof(column));
        var values = column.Numbers.Slice(firstRow, destination.Rows);
        for (int i = 0; i < values.Length; i++)
        {
            var row = destination.Row(i);
            double value = values[i];
            bool missing = double.IsNaN(value);
            row[offset] = T.CreateChecked(((missing ? Fill : value) - Mean) / Scale);
            if (Indicator)
                row[offset + 1] = missing ? T.One : T.Zero;
        }
    }

    /// <summary>
    /// Writes the encoding as ONNX: from a float input [N, 1] with NaN for missing, IsNaN and Where
    /// fill it, Sub and Div standardize it (in float), and with the indicator a Cast of the NaN mask
    /// is concatenated as the second feature.
    /// </summary>
    public string AddOnnxNodes(IOnnxGraph graph, string input, string output)
    {
        ArgumentNullException.ThrowIfNull(graph);
        string missing = graph.Node("IsNaN", [input], $"{output}.missing");
        string filled = graph.Node("Where", [missing, graph.Initializer<double>($"{output}.fill", [1], [Fill]), input], $"{output}.filled");
        string centered = graph.Node("Sub", [filled, graph.Initializer<double>($"{output}.mean", [1], [Mean])], $"{output}.centered");
        string scale = graph.Initializer<double>($"{output}.scale", [1], [Scale]);
        if (!Indicator)
            return graph.Node("Div", [centered, scale], output);
        string scaled = graph.Node("Div", [centered, scale], $"{output}.scaled");
        string flag = graph.Node("Cast", [missing], $"{output}.flag", OnnxAttribute.Int("to", 1));
        return graph.Node("Concat", [scaled, flag], output, OnnxAttribute.Int("axis", 1));
    }

    /// <summary>Shows the column and the values.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Column}: numeric, fill {Fill:G6}, (x - {Mean:G6}) / {Scale:G6}{(Indicator ? ", missing indicator" : "")}");
}
