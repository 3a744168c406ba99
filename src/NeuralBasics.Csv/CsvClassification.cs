using System.Numerics;
using NeuralBasics.Models;
using NeuralBasics.Tables;

namespace NeuralBasics.Csv;

/// <summary>Batch predictions straight from a CSV file, read the way the model's table schema expects.</summary>
public static class CsvClassification
{
    /// <summary>
    /// The prediction for every row of the CSV file at <paramref name="path"/>: the columns the model's
    /// schema reads are read with the kinds it expects (a code column of digits stays categorical),
    /// every other column (the label too, if present) is skipped.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model has no table schema.</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="ArgumentException">The file lacks a column the model reads.</exception>
    /// <exception cref="InvalidDataException">The content is malformed; the message names the line and column.</exception>
    public static Prediction[] ClassifyCsv<T>(this Classifier<T> model, string path, CsvTableOptions? options = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        var schema = model.Schema ?? throw new InvalidOperationException(
            "This model has no table schema: it takes feature vectors. Read the file with CsvDataSet instead.");
        options ??= new CsvTableOptions();
        if (!options.HasHeader)
            throw new ArgumentException("Predicting from a CSV file needs its header, to find the model's columns (HasHeader = true).", nameof(options));
        var header = CsvTable.Header(path, options);
        var kinds = header.ToDictionary(name => name, _ => ColumnKind.Ignored, StringComparer.Ordinal);
        foreach (var encoding in schema.Encodings)
        {
            if (!kinds.ContainsKey(encoding.Column))
                throw new ArgumentException($"{path} has no column '{encoding.Column}', which the model reads; it has: {string.Join(", ", header)}.", nameof(path));
            kinds[encoding.Column] = encoding.InputKind;
        }
        return model.Classify(CsvTable.Read(path, options with { Kinds = kinds }));
    }
}
