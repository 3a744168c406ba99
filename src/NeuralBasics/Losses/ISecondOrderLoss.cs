namespace NeuralBasics.Losses;

/// <summary>
/// A loss that also gives its second derivative with respect to one sample's scores, the C x C
/// matrix <c>A_i = ∂²L_i/∂s²</c>, which Newton's method needs.
/// </summary>
/// <remarks>
/// Implementations depend on the scores only through their differences (adding the same number to
/// every score of a sample changes nothing), so <c>A_i·1 = 0</c>; Newton's method relies on that to
/// pin the biases, which are otherwise free to shift together.
/// </remarks>
public interface ISecondOrderLoss : ILoss
{
    /// <summary>
    /// Writes <c>∂²L_i/∂s²</c> for the score row <paramref name="scores"/> and label
    /// <paramref name="label"/> into the row-major C x C <paramref name="hessian"/> (not divided by N).
    /// </summary>
    void ScoreHessian(ReadOnlySpan<double> scores, int label, Span<double> hessian);
}
