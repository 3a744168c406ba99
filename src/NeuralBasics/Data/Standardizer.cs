using System.Numerics;

namespace NeuralBasics.Data;

/// <summary>
/// Feature standardization: <c>x' = (x − μ) / σ</c> per feature, with μ and σ (the population
/// standard deviation) fitted on the training data only and then applied unchanged to validation,
/// test and production data. A feature that never varies gets σ = 1, so it maps to 0 instead of
/// dividing by zero. It is saved with a model, so predictions see the same scaling as training.
/// </summary>
public sealed class Standardizer
{
    private readonly double[] _means, _scales;

    /// <summary>Creates a standardizer from known means and scales (as loaded from a file).</summary>
    /// <exception cref="ArgumentException">The lengths differ, or a mean is not finite, or a scale is not positive and finite.</exception>
    public Standardizer(IReadOnlyList<double> means, IReadOnlyList<double> scales)
    {
        ArgumentNullException.ThrowIfNull(means);
        ArgumentNullException.ThrowIfNull(scales);
        if (means.Count != scales.Count)
            throw new ArgumentException($"There are {means.Count} means but {scales.Count} scales.", nameof(scales));
        for (int j = 0; j < means.Count; j++)
        {
            if (!double.IsFinite(means[j]))
                throw new ArgumentException($"The mean of feature {j} is {means[j]}.", nameof(means));
            if (!(scales[j] > 0) || !double.IsFinite(scales[j]))
                throw new ArgumentException($"The scale of feature {j} is {scales[j]}; scales must be positive and finite.", nameof(scales));
        }
        _means = [.. means];
        _scales = [.. scales];
    }

    /// <summary>Fits μ and σ of every column of <paramref name="features"/> (in double, whatever T is).</summary>
    /// <exception cref="ArgumentException">The matrix has no rows.</exception>
    public static Standardizer Fit<T>(Matrix<T> features)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (features.Rows == 0)
            throw new ArgumentException("Standardization needs at least one sample to fit.", nameof(features));
        int d = features.Columns;
        var means = new double[d];
        var scales = new double[d];
        for (int i = 0; i < features.Rows; i++)
        {
            var row = features.Row(i);
            for (int j = 0; j < d; j++)
                means[j] += double.CreateChecked(row[j]);
        }
        for (int j = 0; j < d; j++)
            means[j] /= features.Rows;
        for (int i = 0; i < features.Rows; i++)
        {
            var row = features.Row(i);
            for (int j = 0; j < d; j++)
            {
                double deviation = double.CreateChecked(row[j]) - means[j];
                scales[j] += deviation * deviation;
            }
        }
        for (int j = 0; j < d; j++)
        {
            double sigma = Math.Sqrt(scales[j] / features.Rows);
            scales[j] = sigma > 0 && double.IsFinite(sigma) ? sigma : 1.0;
        }
        return new Standardizer(means, scales);
    }

    /// <summary>Fits on the features of <paramref name="training"/>.</summary>
    public static Standardizer Fit<T>(DataSet<T> training)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(training);
        return Fit(training.Features);
    }

    /// <summary>The number of features it was fitted on.</summary>
    public int FeatureCount => _means.Length;

    /// <summary>μ per feature.</summary>
    public IReadOnlyList<double> Means => _means;

    /// <summary>σ per feature (1 where the feature never varied).</summary>
    public IReadOnlyList<double> Scales => _scales;

    /// <summary>A standardized copy of <paramref name="features"/>.</summary>
    /// <exception cref="ArgumentException">The column count differs from <see cref="FeatureCount"/>.</exception>
    public Matrix<T> Transform<T>(Matrix<T> features)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var copy = features.Clone();
        TransformInPlace(copy.AsSpan());
        return copy;
    }

    /// <summary>Standardizes <paramref name="features"/> in place.</summary>
    /// <exception cref="ArgumentException">The column count differs from <see cref="FeatureCount"/>.</exception>
    public void TransformInPlace<T>(MatrixSpan<T> features)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (features.Columns != FeatureCount)
            throw new ArgumentException(
                $"The standardizer was fitted on {FeatureCount} features but the data {features.ToString()} has {features.Columns}.", nameof(features));
        for (int i = 0; i < features.Rows; i++)
        {
            var row = features.Row(i);
            for (int j = 0; j < row.Length; j++)
                row[j] = T.CreateChecked((double.CreateChecked(row[j]) - _means[j]) / _scales[j]);
        }
    }

    /// <summary>A data set with standardized features and the same labels.</summary>
    public DataSet<T> Transform<T>(DataSet<T> data)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(data);
        return new DataSet<T>(Transform(data.Features), data.Labels, data.ClassCount);
    }
}
