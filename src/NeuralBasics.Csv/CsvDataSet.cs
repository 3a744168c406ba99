using System.Globalization;
using System.Numerics;
using nietras.SeparatedValues;
using NeuralBasics.Data;

namespace NeuralBasics.Csv;

/// <summary>
/// Reads numeric CSV files into a <see cref="DataSet{T}"/>: one label column, every other column a
/// feature. Tokenizing (quotes, separators, line endings) is done by Sep; every problem with the
/// content throws <see cref="InvalidDataException"/> naming the line, the column and the reason:
/// an empty file, a row with a different number of columns, a cell that is not a finite number (or
/// too large for <c>T</c>, or holds a NUL character), a label that is not one of the classes, repeated column names, or a row
/// longer than Sep accepts (an unterminated quote). Problems with the options themselves are
/// <see cref="ArgumentException"/>s.
/// </summary>
public static class CsvDataSet
{
    /// <summary>
    /// Without <see cref="CsvDataSetOptions.ClassCount"/> or class names, the largest label decides the
    /// class count; a label this large or larger is taken for a damaged file rather than a request for
    /// that many classes (every class costs a column of weights).
    /// </summary>
    public const int MaxInferredClassCount = 65_536;

    /// <summary>Reads the CSV file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The content is malformed; the message names the line.</exception>
    public static DataSet<T> Read<T>(string path, CsvDataSetOptions? options = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"The CSV file {path} does not exist.", path);
        options = Validate(options);
        try
        {
            return FromSep<T>(() => CreateOptions(options).FromFile(path), options);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Reads CSV content held in a string.</summary>
    /// <exception cref="InvalidDataException">The content is malformed; the message names the line.</exception>
    public static DataSet<T> Parse<T>(string text, CsvDataSetOptions? options = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(text);
        options = Validate(options);
        return FromSep<T>(() => CreateOptions(options).FromText(text), options);
    }

    /// <summary>Checks the options before any content is read: their mistakes are the caller's, not the file's.</summary>
    private static CsvDataSetOptions Validate(CsvDataSetOptions? options)
    {
        options ??= new CsvDataSetOptions();
        if (options.ClassNames is { Count: < 2 })
            throw new ArgumentException("A classifier needs at least 2 class names.", nameof(options));
        if (options.ClassNames?.Any(n => n is null) == true)
            throw new ArgumentException("ClassNames holds a null name.", nameof(options));
        if (options.ClassNames?.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } repeated)
            throw new ArgumentException($"The class name '{repeated.Key}' is given {repeated.Count()} times in ClassNames; each class needs its own name.", nameof(options));
        if (options.LabelColumn is not null && !options.HasHeader)
            throw new ArgumentException("A label column name needs a header line (HasHeader = true).", nameof(options));
        if (options.ClassCount is < 2)
            throw new ArgumentOutOfRangeException(nameof(options), options.ClassCount, "A classifier needs at least 2 classes (ClassCount).");
        if (options.LabelColumnIndex < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.LabelColumnIndex, "The label column index cannot be negative.");
        return options;
    }

    /// <summary>
    /// Reads with a Sep reader, turning what Sep itself throws at malformed content (a repeated column
    /// name, a row past its maximum length after an unterminated quote) into <see cref="InvalidDataException"/>.
    /// </summary>
    private static DataSet<T> FromSep<T>(Func<SepReader> open, CsvDataSetOptions options)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        try
        {
            using var reader = open();
            return Read<T>(reader, options);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"The CSV content is malformed: {e.Message}", e);
        }
    }

    private static SepReaderOptions CreateOptions(CsvDataSetOptions? options)
    {
        options ??= new CsvDataSetOptions();
        var sep = options.Separator is { } c ? Sep.New(c) : (Sep?)null;
        // Column counts are checked here, to name the line in our own words.
        return new SepReaderOptions(sep) { HasHeader = options.HasHeader, DisableColCountCheck = true, Unescape = true, Trim = SepTrim.All };
    }

    private static DataSet<T> Read<T>(SepReader reader, CsvDataSetOptions options)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (reader.HasHeader && reader.Header.ColNames.Count == 0 || !reader.HasHeader && !reader.HasRows)
            throw new InvalidDataException("The CSV file is empty.");

        string[]? names = reader.HasHeader ? [.. reader.Header.ColNames] : null;
        int labelColumn = options.LabelColumnIndex;
        if (options.LabelColumn is { } labelName && names is not null)
        {
            labelColumn = Array.IndexOf(names, labelName);
            if (labelColumn < 0)
                throw new InvalidDataException($"The header has no column '{labelName}'; it has: {string.Join(", ", names)}.");
        }

        int columns = names?.Length ?? -1;
        var features = new List<T[]>();
        var labels = new List<int>();
        int largestLabel = -1, largestLabelLine = 0;
        var classIndex = options.ClassNames?.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        foreach (var row in reader)
        {
            int line = row.LineNumberFrom;
            if (columns < 0)
                columns = row.ColCount;
            if (row.ColCount != columns)
                throw new InvalidDataException($"Line {line} has {row.ColCount} columns but {(names is null ? "the first row" : "the header")} has {columns}.");
            if (labelColumn < 0 || labelColumn >= columns)
                throw new InvalidDataException($"The label column index {labelColumn} is outside the {columns} columns.");

            string labelText = row[labelColumn].ToString();
            int label = ParseLabel(labelText, line, classIndex, options);
            if (label > largestLabel)
                (largestLabel, largestLabelLine) = (label, line);
            labels.Add(label);
            var values = new T[columns - 1];
            for (int col = 0, k = 0; col < columns; col++)
            {
                if (col == labelColumn)
                    continue;
                var cell = row[col].Span;
                if (cell.Contains('\0'))
                    throw new InvalidDataException($"Line {line}, column {ColumnName(names, col)}: the cell holds a NUL character.");
                if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
                    throw new InvalidDataException($"Line {line}, column {ColumnName(names, col)}: '{cell.ToString()}' is not a number.");
                if (!double.IsFinite(value))
                    throw new InvalidDataException($"Line {line}, column {ColumnName(names, col)}: '{cell.ToString()}' is not a finite number.");
                T converted = T.CreateChecked(value);
                if (!T.IsFinite(converted))
                    throw new InvalidDataException(
                        $"Line {line}, column {ColumnName(names, col)}: '{cell.ToString()}' is too large for {typeof(T).Name}.");
                values[k++] = converted;
            }
            features.Add(values);
        }
        if (features.Count == 0)
            throw new InvalidDataException(names is null ? "The CSV file is empty." : "The CSV file has a header but no data rows.");
        if (columns < 2)
            throw new InvalidDataException($"The rows have {columns} column(s): a label and at least one feature are needed.");

        if (options.ClassNames is null && options.ClassCount is null && largestLabel >= MaxInferredClassCount)
            throw new InvalidDataException(
                $"Line {largestLabelLine}: label {largestLabel} would make {(long)largestLabel + 1} classes; set ClassCount (or ClassNames) if that many are meant.");
        int classCount = options.ClassNames?.Count ?? options.ClassCount ?? largestLabel + 1;
        if (classCount < 2)
            throw new InvalidDataException($"Every label is {labels[0]}: a classifier needs at least 2 classes (set ClassCount or ClassNames).");
        var matrix = new Matrix<T>(features.Count, columns - 1);
        for (int i = 0; i < features.Count; i++)
        {
            features[i].CopyTo(matrix.Row(i));
        }
        return new DataSet<T>(matrix, [.. labels], classCount);
    }

    private static int ParseLabel(string text, int line, Dictionary<string, int>? classIndex, CsvDataSetOptions options)
    {
        if (classIndex is not null)
        {
            return classIndex.TryGetValue(text, out int index) ? index
                : throw new InvalidDataException($"Line {line}: label '{text}' is not one of the classes {string.Join(", ", options.ClassNames!)}.");
        }
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int label))
            throw new InvalidDataException($"Line {line}: label '{text}' is not a class index (a whole number from 0); set ClassNames for named classes.");
        if (options.ClassCount is { } count && label >= count)
            throw new InvalidDataException($"Line {line}: label {label} is outside the {count} classes [0, {count}).");
        return label;
    }

    private static string ColumnName(string[]? names, int column) =>
        names is null ? (column + 1).ToString(CultureInfo.InvariantCulture) : $"'{names[column]}'";
}
