using NeuralBasics.Components;

namespace NeuralBasics.Losses;

/// <summary>
/// The squared hinge loss: <c>L_i = Σ_{j≠y_i} max(0, s_j − s_{y_i} + Δ)²</c>. Like the hinge loss
/// but smooth at the margin, and it punishes large violations quadratically.
/// </summary>
/// <remarks>
/// Gradient, for N samples, with <c>m_j = max(0, s_j − s_{y_i} + Δ)</c>: <c>∂L/∂s_j = 2·m_j/N</c>
/// for j ≠ y_i and <c>∂L/∂s_{y_i} = −Σ_{j≠y_i} 2·m_j/N</c>.
/// The loss is once but not twice differentiable (at m_j = 0); its generalized Hessian with respect
/// to one sample's scores is <c>Σ_{j≠y_i, m_j &gt; 0} 2·(e_j − e_{y_i})(e_j − e_{y_i})ᵀ</c>, which is
/// what Newton's method uses.
/// </remarks>
public sealed class SquaredHingeLoss : MarginLoss, ISecondOrderLoss
{
    /// <inheritdoc/>
    public override string Kind => "squared_hinge";

    /// <summary>(C − 1)·Δ².</summary>
    public override double? ChanceLoss(int classes) => (classes - 1) * Delta * Delta;

    /// <summary>Reads Δ and the class weights.</summary>
    internal static SquaredHingeLoss Read(ComponentDescription description) =>
        new(description.Number("delta"), Losses.ClassWeights.Read(description));

    /// <summary>Creates the loss with margin <paramref name="delta"/> (default 1) and optional per-class weights.</summary>
    /// <param name="delta">The margin Δ.</param>
    /// <param name="classWeights">w_c per class: <c>L = (1/N) Σ_i w_{y_i}·L_i</c>; null for all 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">Δ or a weight is negative, NaN or infinite.</exception>
    public SquaredHingeLoss(double delta = 1.0, IReadOnlyList<double>? classWeights = null)
        : base(delta, classWeights)
    {
    }

    /// <inheritdoc/>
    public override T Compute<T>(ReadOnlyMatrixSpan<T> scores, ReadOnlySpan<int> labels, MatrixSpan<T> gradient)
        => HingeLosses.Compute(scores, labels, gradient, T.CreateChecked(Delta), squared: true, Weights);

    /// <inheritdoc/>
    public void ScoreHessian(ReadOnlySpan<double> scores, int label, Span<double> hessian)
    {
        int c = scores.Length;
        if (hessian.Length != c * c)
            throw new ArgumentException($"The Hessian of {c} scores needs {c * c} elements, not {hessian.Length}.", nameof(hessian));
        hessian.Clear();
        double two = 2 * (Weights?[label] ?? 1);
        for (int j = 0; j < c; j++)
        {
            if (j == label || scores[j] - scores[label] + Delta <= 0)
                continue;
            hessian[j * c + j] += two;
            hessian[label * c + label] += two;
            hessian[j * c + label] -= two;
            hessian[label * c + j] -= two;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"SquaredHingeLoss(Δ = {Delta}{Losses.ClassWeights.Describe(Weights)})";
}
