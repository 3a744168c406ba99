using System.Numerics;
using System.Numerics.Tensors;
using NeuralBasics.Components;

namespace NeuralBasics.Optimizers;

/// <summary>
/// Clipping by global norm: when <c>‖g‖ = √(Σ over all tensors of Σ g²)</c> exceeds
/// <see cref="MaxNorm"/>, every gradient is scaled by <c>MaxNorm / ‖g‖</c>, so the step keeps its
/// direction and its length is bounded.
/// </summary>
/// <remarks>Pascanu, Mikolov and Bengio (2013), "On the difficulty of training recurrent neural networks".</remarks>
public sealed record ClipByGlobalNorm : IGradientTransform, IDescribedComponent
{
    string IDescribedComponent.Kind => "clip_by_global_norm";

    void IDescribedComponent.Describe(ComponentDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        description.Set("max_norm", MaxNorm);
    }

    /// <summary>Creates the transform.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The limit is not positive and finite.</exception>
    public ClipByGlobalNorm(double maxNorm) => MaxNorm = Guard.PositiveFinite(maxNorm, "The gradient-norm limit", nameof(maxNorm));

    /// <summary>The largest global norm the gradients keep.</summary>
    public double MaxNorm { get; }

    /// <inheritdoc/>
    public void Apply<T>(IReadOnlyList<Parameter<T>> parameters, double globalNorm)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(globalNorm > MaxNorm))
            return;
        T scale = T.CreateChecked(MaxNorm / globalNorm);
        foreach (var p in parameters)
            TensorPrimitives.Multiply(p.Gradient.Span, scale, p.Gradient.Span);
    }
}
