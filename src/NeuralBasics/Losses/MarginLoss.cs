using System.Numerics;
using NeuralBasics.Components;

namespace NeuralBasics.Losses;

/// <summary>What the two hinge losses share: the margin Δ and the per-class weights.</summary>
public abstract class MarginLoss : ILoss, IDescribedComponent
{
    /// <inheritdoc/>
    public abstract string Kind { get; }

    /// <summary>Writes Δ and the class weights.</summary>
    public void Describe(ComponentDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        description.Set("delta", Delta);
        Losses.ClassWeights.Describe(description, Weights);
    }

    /// <inheritdoc/>
    public abstract double? ChanceLoss(int classes);

    private protected MarginLoss(double delta, IReadOnlyList<double>? classWeights)
    {
        Delta = Guard.NonNegativeFinite(delta, "The margin Δ");
        Weights = Losses.ClassWeights.Validate(classWeights);
    }

    /// <summary>The margin Δ.</summary>
    public double Delta { get; }

    /// <summary>The per-class weights, or null when every class counts 1.</summary>
    public IReadOnlyList<double>? ClassWeights => Weights;

    private protected double[]? Weights { get; }

    /// <inheritdoc/>
    public abstract T Compute<T>(ReadOnlyMatrixSpan<T> scores, ReadOnlySpan<int> labels, MatrixSpan<T> gradient)
        where T : unmanaged, IFloatingPointIeee754<T>;
}
