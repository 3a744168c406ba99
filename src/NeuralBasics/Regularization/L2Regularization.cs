using System.Numerics;
using System.Numerics.Tensors;
using NeuralBasics.Components;

namespace NeuralBasics.Regularization;

/// <summary>
/// L2 regularization as a loss term: <c>R(W) = λ Σ_k W_k²</c>, gradient <c>∂R/∂W = 2λW</c>.
/// It prefers small, diffuse weights; with plain SGD it is the same as weight decay by
/// <c>2·λ·lr</c> per step, but with adaptive rules (Adam and others) it is not.
/// </summary>
public sealed class L2Regularization : IRegularizer, IDescribedComponent
{
    /// <inheritdoc/>
    public string Kind => "l2";

    /// <inheritdoc/>
    public void Describe(ComponentDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        description.Set("lambda", Lambda);
    }

    /// <summary>True: <c>2λw_k</c>.</summary>
    public bool IsElementwise => true;

    /// <summary>Reads λ.</summary>
    internal static L2Regularization Read(ComponentDescription description) => new(description.Number("lambda"));

    /// <summary>Creates the penalty with strength <paramref name="lambda"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">λ is negative, NaN or infinite.</exception>
    public L2Regularization(double lambda)
    {
        Lambda = Guard.NonNegativeFinite(lambda, "The regularization strength λ");
    }

    /// <summary>The strength λ.</summary>
    public double Lambda { get; }

    /// <inheritdoc/>
    public T Penalty<T>(ReadOnlySpan<T> weights)
        where T : unmanaged, IFloatingPointIeee754<T>
        => T.CreateChecked(Lambda) * TensorPrimitives.SumOfSquares(weights);

    /// <inheritdoc/>
    public void AddGradient<T>(ReadOnlySpan<T> weights, Span<T> gradient)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (weights.Length != gradient.Length)
            throw new ArgumentException($"The gradient has {gradient.Length} elements but the weights have {weights.Length}.", nameof(gradient));
        if (weights.Overlaps(gradient))
            throw new ArgumentException("The gradient overlaps the weights.", nameof(gradient));
        // gradient = weights · 2λ + gradient
        TensorPrimitives.MultiplyAdd(weights, T.CreateChecked(2 * Lambda), gradient, gradient);
    }

    /// <inheritdoc/>
    public override string ToString() => $"L2Regularization(λ = {Lambda})";
}
