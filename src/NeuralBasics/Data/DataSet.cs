using System.Numerics;
using NeuralBasics.Kernels;

namespace NeuralBasics.Data;

/// <summary>
/// A labelled data set: an N x D feature matrix (one sample per row) and N class labels in
/// [0, <see cref="ClassCount"/>). Construction checks everything a trainer would otherwise trip
/// over later: matching counts, labels in range, finite features, at least one sample.
/// </summary>
/// <typeparam name="T">The feature type, <see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class DataSet<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int[] _labels;

    /// <summary>Creates a data set over <paramref name="features"/> (shared, not copied) and a copy of <paramref name="labels"/>.</summary>
    /// <exception cref="ArgumentException">
    /// No samples, no features, fewer than two classes, a count mismatch, a label outside
    /// [0, <paramref name="classCount"/>), or a NaN or infinite feature; the message names the offender.
    /// </exception>
    public DataSet(Matrix<T> features, ReadOnlySpan<int> labels, int classCount)
    {
        if (features.Rows == 0)
            throw new ArgumentException("The data set has no samples (the feature matrix has 0 rows).", nameof(features));
        if (features.Columns == 0)
            throw new ArgumentException($"The samples have no features (the feature matrix is {features}).", nameof(features));
        if (labels.Length != features.Rows)
            throw new ArgumentException(
                $"There are {features.Rows} samples (feature matrix {features}) but {labels.Length} labels.", nameof(labels));
        Guard.ClassCount(classCount);
        Guard.LabelsInRange(labels, classCount);
        var span = features.Span;
        for (int k = 0; k < span.Length; k++)
            if (!T.IsFinite(span[k]))
                throw new ArgumentException(
                    $"Feature {k % features.Columns} of sample {k / features.Columns} is {span[k]}; features must be finite.", nameof(features));

        Features = features;
        _labels = labels.ToArray();
        ClassCount = classCount;
    }

    /// <summary>
    /// Builds a data set from any sequence of records: <paramref name="features"/> gives each
    /// record's feature values (an array, or a slice of one), <paramref name="label"/> its class.
    /// The sequence is read once; every record must give the same number of features.
    /// </summary>
    /// <example><code>var data = DataSet&lt;float&gt;.FromRows(images, image =&gt; image.Pixels, image =&gt; image.Label, classCount: 10);</code></example>
    /// <exception cref="ArgumentException">
    /// No records, records of different widths, a label out of range or a non-finite feature (the
    /// message names the record), or fewer than two classes.
    /// </exception>
    public static DataSet<T> FromRows<TRow>(IEnumerable<TRow> rows, Func<TRow, ReadOnlyMemory<T>> features, Func<TRow, int> label, int classCount)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(label);
        var values = new List<T>();
        var labels = new List<int>();
        int width = -1;
        foreach (var row in rows)
        {
            var x = features(row).Span;
            if (width < 0)
                width = x.Length;
            else if (x.Length != width)
                throw new ArgumentException($"Record {labels.Count} has {x.Length} features but the first had {width}.", nameof(features));
            foreach (var v in x)
                values.Add(v);
            labels.Add(label(row));
        }
        if (labels.Count == 0)
            throw new ArgumentException("The sequence holds no records.", nameof(rows));
        var matrix = new Matrix<T>(labels.Count, width);
        System.Runtime.InteropServices.CollectionsMarshal.AsSpan(values).CopyTo(matrix.Span);
        return new DataSet<T>(matrix, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(labels), classCount);
    }

    /// <summary>
    /// Copies the features and labels of <paramref name="rows"/> into the first rows of a batch's
    /// buffers (the features with <see cref="RowOps.GatherRows{T}"/>, split across cores when large).
    /// </summary>
    internal void Gather(ReadOnlySpan<int> rows, MatrixSpan<T> features, Span<int> labels)
    {
        RowOps.GatherRows(Features.AsReadOnlySpan(), rows, features.SliceRows(0, rows.Length));
        for (int r = 0; r < rows.Length; r++)
            labels[r] = _labels[rows[r]];
    }

    /// <summary>The N x D features, one sample per row.</summary>
    public Matrix<T> Features { get; }

    /// <summary>The N labels, each in [0, <see cref="ClassCount"/>).</summary>
    public ReadOnlySpan<int> Labels => _labels;

    /// <summary>The number of classes C.</summary>
    public int ClassCount { get; }

    /// <summary>The number of samples N.</summary>
    public int Count => Features.Rows;

    /// <summary>The number of features D per sample.</summary>
    public int FeatureCount => Features.Columns;

    /// <summary>Shows the shape: samples, features and classes.</summary>
    public override string ToString() => $"{Count} samples x {FeatureCount} features, {ClassCount} classes";
}
