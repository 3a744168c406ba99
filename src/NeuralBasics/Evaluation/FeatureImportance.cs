using System.Globalization;

namespace NeuralBasics.Evaluation;

/// <summary>
/// How much a model relies on one raw column: the drop in accuracy when that column's values are
/// shuffled among the rows (permutation importance, Breiman 2001; scikit-learn's
/// <c>permutation_importance</c>), averaged over several shuffles. A one-hot encoded column counts
/// once, by its original name, not once per category.
/// </summary>
/// <param name="Column">The raw column.</param>
/// <param name="AccuracyDrop">The mean drop in accuracy over the shuffles (negative: shuffling helped, by chance).</param>
/// <param name="StandardDeviation">The drop's standard deviation over the shuffles.</param>
public sealed record FeatureImportance(string Column, double AccuracyDrop, double StandardDeviation)
{
    /// <summary>The column and its drop, mean ± standard deviation.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Column}: {AccuracyDrop:F4} ± {StandardDeviation:F4}");
}
