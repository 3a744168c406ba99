using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;
using NeuralBasics.Data;

namespace NeuralBasics.Tables;

/// <summary>
/// The preprocessing of a table, fitted on its training rows and saved inside the model file: the
/// label column and its classes, and one <see cref="IColumnEncoding"/> per feature column (numbers
/// imputed and standardized, categories one-hot encoded), in the order their features are
/// written. Columns it does not name are ignored. Immutable; the same schema turns training,
/// validation, test and production rows into the same features.
/// </summary>
/// <example>
/// <code>
/// var (train, test) = table.Split("species", 0.2, seed: 1);
/// var schema = TableSchema.Fit(train, "species");
/// var result = trainer.Train(schema.ToDataSet&lt;float&gt;(train));
/// var model = result.Model.WithSchema(schema);
/// Prediction p = model.Classify(new Dictionary&lt;string, object?&gt; { ["island"] = "Biscoe", ... });
/// </code>
/// </example>
public sealed class TableSchema
{
    /// <summary>The destination bytes one block of rows fills: well inside a level-2 cache.</summary>
    private const int BlockBytes = 128 * 1024;

    private readonly IColumnEncoding[] _encodings;
    private readonly Dictionary<string, int> _classes;

    /// <summary>A schema of known parts (as loaded from a file, or built by hand).</summary>
    /// <exception cref="ArgumentException">Fewer than two classes, a repeated class or column, an encoding of the label column, or no encoding.</exception>
    public TableSchema(string labelColumn, IReadOnlyList<string> classNames, IEnumerable<IColumnEncoding> encodings)
    {
        ArgumentException.ThrowIfNullOrEmpty(labelColumn);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(encodings);
        if (classNames.Count < 2)
            throw new ArgumentException("A classifier needs at least 2 classes.", nameof(classNames));
        _classes = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string name in classNames)
            if (string.IsNullOrEmpty(name) || !_classes.TryAdd(name, _classes.Count))
                throw new ArgumentException($"The class name '{name}' is empty or repeated; each class needs its own name.", nameof(classNames));
        _encodings = [.. encodings];
        if (_encodings.Length == 0)
            throw new ArgumentException("The schema encodes no column: a model needs at least one feature.", nameof(encodings));
        var columns = new HashSet<string>(StringComparer.Ordinal) { labelColumn };
        foreach (var encoding in _encodings)
            if (encoding is null || !columns.Add(encoding.Column))
                throw new ArgumentException(
                    $"The column '{encoding?.Column}' is encoded twice or is the label column; each column has at most one encoding.", nameof(encodings));
        LabelColumn = labelColumn;
        ClassNames = [.. classNames];
        FeatureNames = [.. _encodings.SelectMany(e => e.FeatureNames)];
    }

    /// <summary>
    /// Fits a schema on the training rows: every column except the label and those ignored becomes
    /// features, numeric columns through <see cref="NumericEncoding"/>, categorical ones through
    /// <see cref="OneHotEncoding"/>, as <paramref name="options"/> say.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The label column or an ignored column does not exist, a label is missing or (for numeric
    /// labels) not a whole number from 0, a label is not one of the given class names, or a column
    /// cannot be encoded (no values, too many categories); the message names the column.
    /// </exception>
    public static TableSchema Fit(Table training, string labelColumn, TableSchemaOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(training);
        options ??= new TableSchemaOptions();
        var label = training[labelColumn];
        var ignore = new HashSet<string>(options.Ignore ?? [], StringComparer.Ordinal);
        foreach (string name in ignore)
            _ = training[name];
        var classNames = options.ClassNames is { } given ? [.. given] : DefaultClassNames(label);
        var encodings = new List<IColumnEncoding>();
        foreach (var column in training.Columns)
        {
            if (column.Name == labelColumn || ignore.Contains(column.Name))
                continue;
            encodings.Add(column.Kind == ColumnKind.Numeric
                ? NumericEncoding.Fit(column, options.Imputation, options.MissingIndicators && column.MissingCount > 0)
                : OneHotEncoding.Fit(column, options.MinCategoryCount, options.UnknownCategories, options.MaxCategories));
        }
        var schema = new TableSchema(labelColumn, classNames, encodings);
        _ = schema.Labels(training);
        return schema;
    }

    /// <summary>A text label's distinct values in ordinal order; a numeric label's 0 to the largest.</summary>
    private static string[] DefaultClassNames(TableColumn label)
    {
        if (label.Kind == ColumnKind.Categorical)
            return [.. Enumerable.Range(0, label.Count).Select(label.Text).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        double largest = -1;
        for (int i = 0; i < label.Count; i++)
        {
            double value = label.Number(i);
            if (!(value >= 0 && value == Math.Floor(value) && value < Array.MaxLength))
                throw new ArgumentException(
                    $"Row {i} of the label column '{label.Name}' is {(double.IsNaN(value) ? "missing" : value.ToString("R", CultureInfo.InvariantCulture))}; " +
                    "a numeric label is a class index (a whole number from 0). Give ClassNames, or read the column as categorical.", nameof(label));
            largest = Math.Max(largest, value);
        }
        return [.. Enumerable.Range(0, (int)largest + 1).Select(i => i.ToString(CultureInfo.InvariantCulture))];
    }

    /// <summary>The label column's name.</summary>
    public string LabelColumn { get; }

    /// <summary>The classes in index order.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The encodings, in the order their features are written.</summary>
    public IReadOnlyList<IColumnEncoding> Encodings => _encodings;

    /// <summary>The number of features a row becomes: the model's input count.</summary>
    public int FeatureCount => FeatureNames.Count;

    /// <summary>A name per feature (<c>bill_length_mm</c>, <c>island=Biscoe</c>, ...).</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>The features of every row of <paramref name="table"/> (its label, if present, is not read).</summary>
    /// <exception cref="ArgumentException">A column the schema reads is absent or of the other kind, or holds a value it refuses; the message names it.</exception>
    public Matrix<T> Transform<T>(Table table)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(table);
        var features = new Matrix<T>(table.RowCount, FeatureCount);
        TransformInto(table, features.AsSpan());
        return features;
    }

    /// <summary>Writes the features of every row of <paramref name="table"/> into <paramref name="destination"/> (rows x <see cref="FeatureCount"/>).</summary>
    /// <exception cref="ArgumentException">The destination has the wrong shape, or as <see cref="Transform{T}(Table)"/>.</exception>
    public void TransformInto<T>(Table table, MatrixSpan<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(table);
        if (destination.Rows != table.RowCount || destination.Columns != FeatureCount)
            throw new ArgumentException(
                $"The destination {destination.ToString()} should be {table.RowCount} x {FeatureCount} (rows x features).", nameof(destination));
        var columns = _encodings.Select(e => Input(table, e)).ToArray();
        // Block by block, so each block of the destination stays in cache while every encoding writes
        // its stripe of it (column by column over the whole matrix was 4x slower at a million rows).
        int block = Math.Max(1, BlockBytes / (FeatureCount * Unsafe.SizeOf<T>()));
        for (int start = 0; start < table.RowCount; start += block)
        {
            var rows = destination.SliceRows(start, Math.Min(block, table.RowCount - start));
            int offset = 0;
            for (int j = 0; j < _encodings.Length; j++)
            {
                _encodings[j].Encode(columns[j], start, rows, offset);
                offset += _encodings[j].FeatureNames.Count;
            }
        }
    }

    private static TableColumn Input(Table table, IColumnEncoding encoding)
    {
        if (!table.TryGetColumn(encoding.Column, out var column))
            throw new ArgumentException($"The table has no column '{encoding.Column}', which the model reads; it has: {string.Join(", ", table.Columns.Select(c => c.Name))}.", nameof(table));
        return column;
    }

    /// <summary>The class index of every row of <paramref name="table"/>, from its label column.</summary>
    /// <exception cref="ArgumentException">There is no label column, or a label is missing or not one of <see cref="ClassNames"/>; the message names the row.</exception>
    public int[] Labels(Table table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var label = table[LabelColumn];
        var labels = new int[table.RowCount];
        for (int i = 0; i < labels.Length; i++)
        {
            string? text = label.Key(i);
            if (text is null)
                throw new ArgumentException($"Row {i}: the label ('{LabelColumn}') is missing; drop unlabelled rows before training or evaluating.", nameof(table));
            labels[i] = _classes.TryGetValue(text, out int index) ? index
                : throw new ArgumentException($"Row {i}: the label '{text}' is not one of the classes {string.Join(", ", ClassNames)}.", nameof(table));
        }
        return labels;
    }

    /// <summary>The features and labels of <paramref name="table"/>, ready for a trainer.</summary>
    /// <exception cref="ArgumentException">As <see cref="Transform{T}(Table)"/> and <see cref="Labels"/>.</exception>
    public DataSet<T> ToDataSet<T>(Table table)
        where T : unmanaged, IFloatingPointIeee754<T> => new(Transform<T>(table), Labels(table), ClassNames.Count);

    /// <summary>
    /// One record as a one-row table of the columns the schema reads. A value may be null (missing);
    /// a number column takes any .NET number or a string in invariant format; a category column takes
    /// a string, or a number (written in invariant format).
    /// </summary>
    /// <exception cref="ArgumentException">A column is absent, or a number column holds something that is not a number; the message names the column.</exception>
    internal Table RecordTable(IReadOnlyDictionary<string, object?> record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var columns = new TableColumn[_encodings.Length];
        for (int j = 0; j < _encodings.Length; j++)
        {
            string name = _encodings[j].Column;
            if (!record.TryGetValue(name, out object? value))
                throw new ArgumentException(
                    $"The record has no '{name}', which the model reads (pass null for a missing value). The model reads: {string.Join(", ", _encodings.Select(e => e.Column))}.", nameof(record));
            columns[j] = _encodings[j].InputKind == ColumnKind.Numeric
                ? TableColumn.FromNumbers(name, [RecordNumber(name, value)])
                : TableColumn.Categorical(name, [RecordText(value)]);
        }
        return new Table(columns);
    }

    private static double RecordNumber(string column, object? value)
    {
        double number = value switch
        {
            null => double.NaN,
            double d => d,
            float f => f,
            string text when string.IsNullOrWhiteSpace(text) => double.NaN,
            string text when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) && !text.Contains('\0') => parsed,
            IConvertible convertible and not string and not bool and not char => convertible.ToDouble(CultureInfo.InvariantCulture),
            _ => throw new ArgumentException($"The record's '{column}' is {Quoted(value)}, not a number.", nameof(value)),
        };
        return double.IsInfinity(number)
            ? throw new ArgumentException($"The record's '{column}' is {number}; numbers must be finite (null or NaN for missing).", nameof(value))
            : number;
    }

    private static string Quoted(object value) => value is string text ? $"'{text}'" : $"{value} ({value.GetType().Name})";

    private static string? RecordText(object? value) => value switch
    {
        null => null,
        string text => text.Trim(),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    /// <summary>Lists the label, the classes and each column's encoding.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"label {LabelColumn} ({string.Join(", ", ClassNames)}); {FeatureCount} features from {_encodings.Length} columns:");
        foreach (var encoding in _encodings)
            text.AppendLine().Append("  ").Append(encoding);
        return text.ToString();
    }
}
