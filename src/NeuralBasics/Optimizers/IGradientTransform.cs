using System.Numerics;

namespace NeuralBasics.Optimizers;

/// <summary>
/// A change made to the gradients of all parameter tensors after they are computed and before the
/// update rule reads them: clipping by the global norm, and later decoupled weight decay or noise.
/// Transforms are chained in front of a rule by <see cref="UpdateChain"/> (optax's <c>chain</c>,
/// Optimisers.jl's <c>OptimiserChain</c>), so a trainer needs no flag per transform.
/// </summary>
public interface IGradientTransform
{
    /// <summary>
    /// Transforms every parameter's gradient in place. <paramref name="globalNorm"/> is
    /// <c>√(Σ over all tensors of Σ g²)</c> of the gradients as computed, before any transform of
    /// the chain ran.
    /// </summary>
    void Apply<T>(IReadOnlyList<Parameter<T>> parameters, double globalNorm)
        where T : unmanaged, IFloatingPointIeee754<T>;
}
