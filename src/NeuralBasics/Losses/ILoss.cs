using System.Numerics;

namespace NeuralBasics.Losses;

/// <summary>
/// A data loss over class scores: the mean over the batch of a per-sample loss <c>L_i</c> of the
/// score row <c>s = S[i, :]</c> and the correct class <c>y_i</c>. One loss object serves
/// <see cref="float"/> and <see cref="double"/>, and holds nothing that changes.
/// </summary>
public interface ILoss
{
    /// <summary>
    /// Returns <c>L = (1/N) Σ_i L_i</c> for the N x C <paramref name="scores"/> and writes
    /// <c>dL/dS</c> (already divided by N) into <paramref name="gradient"/>, unless that is empty.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// No samples, a label count or gradient shape that does not match the scores, or a label
    /// outside [0, C). Nothing is written before the checks pass.
    /// </exception>
    T Compute<T>(ReadOnlyMatrixSpan<T> scores, ReadOnlySpan<int> labels, MatrixSpan<T> gradient)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// The per-class weights w_c (sample i's loss and gradient multiplied by w_{y_i}), or null when
    /// every class counts 1 or the loss has none.
    /// </summary>
    IReadOnlyList<double>? ClassWeights => null;

    /// <summary>
    /// The data loss when every class gets the same score (a freshly initialized classifier's
    /// expected loss, which <c>NetworkDiagnostics.InitialLoss</c> compares
    /// with), or null when the loss does not know it.
    /// </summary>
    double? ChanceLoss(int classes) => null;
}

/// <summary>Argument checks shared by the losses.</summary>
internal static class LossChecks
{
    public static void Check<T>(ReadOnlyMatrixSpan<T> scores, ReadOnlySpan<int> labels, MatrixSpan<T> gradient)
    {
        if (scores.Rows == 0)
            throw new ArgumentException($"The scores {scores.ToString()} hold no samples; a mean loss needs at least one.", nameof(scores));
        if (scores.Columns < 2)
            throw new ArgumentException($"The scores {scores.ToString()} have {scores.Columns} class(es); a classifier needs at least 2.", nameof(scores));
        if (labels.Length != scores.Rows)
            throw new ArgumentException($"The scores {scores.ToString()} have {scores.Rows} rows but there are {labels.Length} labels.", nameof(labels));
        if (!gradient.IsEmpty && (gradient.Rows != scores.Rows || gradient.Columns != scores.Columns))
            throw new ArgumentException(
                $"The gradient is {gradient.ToString()} but the scores are {scores.ToString()}.", nameof(gradient));
        if (!gradient.IsEmpty && gradient.Span.Overlaps(scores.Span))
            throw new ArgumentException("The gradient overlaps the scores.", nameof(gradient));
        Guard.LabelsInRange(labels, scores.Columns);
    }
}
