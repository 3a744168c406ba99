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
