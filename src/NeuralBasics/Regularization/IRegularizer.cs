using System.Numerics;

namespace NeuralBasics.Regularization;

/// <summary>
/// A penalty <c>R(W)</c> on the weights, added to the data loss: the objective is
/// <c>L = (1/N) Σ_i L_i + R(W)</c>. Biases are never regularized: the trainer applies a
/// regularizer only to parameters marked as weights.
/// </summary>
public interface IRegularizer
{
    /// <summary>The penalty <c>R(w)</c> of one weight tensor.</summary>
    T Penalty<T>(ReadOnlySpan<T> weights)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Adds <c>∂R/∂w</c> to <paramref name="gradient"/>.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    void AddGradient<T>(ReadOnlySpan<T> weights, Span<T> gradient)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// Whether each element's gradient depends on that element alone (L2: <c>2λw_k</c>), so the
    /// trainer may add it block by block on every core; otherwise it is added to whole tensors on
    /// one thread. False unless the regularizer says so.
    /// </summary>
    bool IsElementwise => false;
}
