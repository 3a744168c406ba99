using System.Globalization;
using nietras.SeparatedValues;
using NeuralBasics.Tables;

namespace NeuralBasics.Csv;

/// <summary>
/// Reads CSV files of mixed columns — numbers, categories, empty and <c>NA</c> cells — into a
/// <see cref="Table"/>, each column's kind inferred from its cells or given
/// (<see cref="CsvTableOptions.Kinds"/>). Missing cells stay missing (NaN or null), never zero.
/// Tokenizing (quotes, separators, line endings) is Sep's; every problem with the content is an
/// <see cref="InvalidDataException"/> naming the line and the column: a row with a different number
/// of columns, a cell holding a NUL character, a non-number in a column declared numeric, more
/// distinct categories than <see cref="CsvTableOptions.MaxCategories"/>, an empty file, repeated
/// column names.
/// </summary>
public static class CsvTable
{
    /// <summary>Reads the CSV file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The content is malformed; the message names the line and column.</exception>
    /// <exception cref="ArgumentException">The options are invalid (a kind for a column the file lacks, a maximum below 1).</exception>
    public static Table Read(string path, CsvTableOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"The CSV file {path} does not exist.", path);
        options = Validate(options);
        try
        {
            return FromSep(() => CreateOptions(options).FromFile(path), options, new FileInfo(path).Length);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>The column names in the header of the file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is empty or its header is malformed.</exception>
    internal static string[] Header(string path, CsvTableOptions options)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"The CSV file {path} does not exist.", path);
        try
        {
            using var reader = CreateOptions(options).FromFile(path);
            return reader.Header.ColNames.Count > 0 ? [.. reader.Header.ColNames] : throw new InvalidDataException($"{path}: The CSV file is empty.");
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}: The CSV content is malformed: {e.Message}", e);
        }
    }

    /// <summary>Reads CSV content held in a string.</summary>
    /// <exception cref="InvalidDataException">The content is malformed; the message names the line and column.</exception>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static Table Parse(string text, CsvTableOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        options = Validate(options);
        return FromSep(() => CreateOptions(options).FromText(text), options, text.Length);
    }

    private static CsvTableOptions Validate(CsvTableOptions? options)
    {
        options ??= new CsvTableOptions();
        ArgumentNullException.ThrowIfNull(options.MissingValues, nameof(options.MissingValues));
        if (options.MaxCategories < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxCategories, "MaxCategories must be at least 1.");
        if (options.Kinds is not null && !options.HasHeader)
            throw new ArgumentException("Column kinds by name need a header line (HasHeader = true).", nameof(options));
        return options;
    }

    private static SepReaderOptions CreateOptions(CsvTableOptions options)
    {
        var sep = options.Separator is { } c ? Sep.New(c) : (Sep?)null;
        return new SepReaderOptions(sep) { HasHeader = options.HasHeader, DisableColCountCheck = true, Unescape = true, Trim = SepTrim.All };
    }

    /// <summary>Reads with Sep, turning what Sep throws at malformed content into <see cref="InvalidDataException"/>.</summary>
    private static Table FromSep(Func<SepReader> open, CsvTableOptions options, long size)
    {
        try
        {
            return new Reading(open, options, size).Run();
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or FormatException or InvalidOperationException && e is not ArgumentOutOfRangeException)
        {
            if (e is ArgumentException { ParamName: "options" })
                throw;
            throw new InvalidDataException($"The CSV content is malformed: {e.Message}", e);
        }
    }

    /// <summary>
    /// One read of one file. A column whose kind is inferred starts numeric; at its first cell that is
    /// not a number it turns categorical, and its earlier rows are read again as text by a second
    /// reader (so a number's original text, "007" or "1.50", is kept as the category).
    /// </summary>
    private sealed class Reading(Func<SepReader> open, CsvTableOptions options, long size)
    {
        /// <summary>The rows read before the row count is estimated from the file's size and the buffers sized once.</summary>
        private const int SampleRows = 1024;

        private readonly HashSet<string> _missing = new(options.MissingValues.Append(""), StringComparer.Ordinal);

        /// <summary>Whether a missing spelling is itself a number (-999): then it is looked up before a cell is parsed.</summary>
        private readonly bool _numericMissing = options.MissingValues.Any(v =>
            double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double number) && double.IsFinite(number));
        private string[] _names = [];
        private Column[] _columns = [];
        private int _estimate;

        private sealed class Column(string name, ColumnKind kind, bool inferred)
        {
            public string Name { get; } = name;
            public ColumnKind Kind { get; set; } = kind;
            public bool Inferred { get; } = inferred;
            public NumericColumnBuilder? Numbers { get; set; }
            public CategoricalColumnBuilder? Categories { get; set; }
        }

        public Table Run()
        {
            int rows = 0;
            long sampled = 0;
            using (var reader = open())
            {
                if (reader.HasHeader && reader.Header.ColNames.Count == 0 || !reader.HasHeader && !reader.HasRows)
                    throw new InvalidDataException("The CSV file is empty.");
                var missing = _missing.GetAlternateLookup<ReadOnlySpan<char>>();
                if (reader.HasHeader)
                    Start(reader, reader.Header.ColNames.Count);
                foreach (var row in reader)
                {
                    if (_columns.Length == 0)
                        Start(reader, row.ColCount);
                    int line = row.LineNumberFrom;
                    if (row.ColCount != _names.Length)
                        throw new InvalidDataException($"Line {line} has {row.ColCount} columns but {(reader.HasHeader ? "the header" : "the first row")} has {_names.Length}.");
                    if (rows < SampleRows)
                        sampled += row.Span.Length + 1;
                    else if (rows == SampleRows)
                        Reserve((int)Math.Min(Array.MaxLength, size / Math.Max(1.0, (double)sampled / SampleRows) * 1.02));
                    for (int j = 0; j < _columns.Length; j++)
                    {
                        var column = _columns[j];
                        if (column.Kind == ColumnKind.Ignored)
                            continue;
                        var col = row[j];
                        var cell = col.Span;
                        if (cell.Contains('\0'))
                            throw new InvalidDataException($"Line {line}, column '{column.Name}': the cell holds a NUL character.");
                        if (column.Kind == ColumnKind.Numeric)
                        {
                            // A number first: the missing spellings are looked up only for cells that are none.
                            if (!cell.IsEmpty && !(_numericMissing && missing.Contains(cell)) && col.TryParse<double>() is { } number && double.IsFinite(number))
                            {
                                column.Numbers!.Add(number);
                                continue;
                            }
                            if (missing.Contains(cell))
                            {
                                column.Numbers!.AddMissing();
                                continue;
                            }
                            if (!column.Inferred)
                                throw new InvalidDataException(double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
                                    ? $"Line {line}, column '{column.Name}': '{cell.ToString()}' is not a finite number."
                                    : $"Line {line}, column '{column.Name}': '{cell.ToString()}' is not a number; it is declared numeric in Kinds.");
                            column.Kind = ColumnKind.Categorical;
                            column.Categories = ReadTextAgain(j, rows);
                            column.Numbers = null;
                        }
                        // A category seen before is no missing spelling (those are never added).
                        if (column.Categories!.TryAddKnown(cell))
                            continue;
                        if (missing.Contains(cell))
                            column.Categories.AddMissing();
                        else
                            Add(column.Categories, cell, line);
                    }
                    rows++;
                }
            }
            if (rows == 0)
                throw new InvalidDataException(_names.Length == 0 ? "The CSV file is empty." : "The CSV file has a header but no data rows.");
            var table = new List<TableColumn>();
            foreach (var column in _columns)
            {
                if (column.Kind == ColumnKind.Numeric)
                    table.Add(column.Numbers!.Build());
                else if (column.Kind == ColumnKind.Categorical)
                    table.Add(column.Categories!.Build());
            }
            if (table.Count == 0)
                throw new InvalidDataException("Every column is ignored; nothing was read.");
            return new Table(table);
        }

        /// <summary>Sizes every column's buffer for the estimated row count, so none grows by doubling.</summary>
        private void Reserve(int rows)
        {
            _estimate = rows;
            foreach (var column in _columns)
            {
                column.Numbers?.EnsureCapacity(rows);
                column.Categories?.EnsureCapacity(rows);
            }
        }

        private static void Add(CategoricalColumnBuilder builder, ReadOnlySpan<char> value, int line)
        {
            if (!builder.TryAdd(value))
                throw new InvalidDataException(
                    $"Line {line}, column '{builder.Name}': more than {builder.MaxCategories} distinct categories. An identifier or free text is no category: " +
                    "read the column as ColumnKind.Ignored, or raise MaxCategories if it really has that many.");
        }

        private void Start(SepReader reader, int count)
        {
            _names = reader.HasHeader ? [.. reader.Header.ColNames]
                : [.. Enumerable.Range(1, count).Select(i => "column" + i.ToString(CultureInfo.InvariantCulture))];
            var kinds = options.Kinds ?? new Dictionary<string, ColumnKind>();
            foreach (var name in kinds.Keys)
                if (!_names.Contains(name, StringComparer.Ordinal))
                    throw new ArgumentException($"Kinds names the column '{name}', which the file lacks; it has: {string.Join(", ", _names)}.", nameof(options));
            _columns = [.. _names.Select(name => kinds.TryGetValue(name, out var kind)
                ? new Column(name, kind, inferred: false)
                {
                    Numbers = kind == ColumnKind.Numeric ? new NumericColumnBuilder(name) : null,
                    Categories = kind == ColumnKind.Categorical ? new CategoricalColumnBuilder(name, options.MaxCategories) : null,
                }
                : new Column(name, ColumnKind.Numeric, inferred: true) { Numbers = new NumericColumnBuilder(name) })];
        }

        /// <summary>Column <paramref name="j"/>'s first <paramref name="rows"/> rows, read again as text.</summary>
        private CategoricalColumnBuilder ReadTextAgain(int j, int rows)
        {
            var builder = new CategoricalColumnBuilder(_names[j], options.MaxCategories, capacity: _estimate);
            if (rows == 0)
                return builder;
            var missingLookup = _missing.GetAlternateLookup<ReadOnlySpan<char>>();
            using var reader = open();
            foreach (var row in reader)
            {
                if (builder.Count == rows)
                    break;
                var cell = row[j].Span;
                Add(builder, missingLookup.Contains(cell) ? [] : cell, row.LineNumberFrom);
            }
            return builder;
        }
    }
}
