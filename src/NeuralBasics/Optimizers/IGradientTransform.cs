using System.Numerics;

namespace NeuralBasics.Optimizers;

/// <summary>
/// A step between the gradient and the update rule (<see cref="UpdateChain"/>): clipping, weight
/// decay, noise. It sees each step through a <see cref="TransformStep{T}"/> — the parameters and
/// their gradients, the global gradient norm, the rule's learning rate of this step for every
/// tensor — and may keep state per tensor (<see cref="CreateState{T}"/>), which checkpoints save.
/// </summary>
public interface IGradientTransform
{
    /// <summary>
    /// Transforms the gradients of <paramref name="parameters"/> in place, given their global norm
    /// <c>‖g‖₂</c> before any transform.
    /// </summary>
    void Apply<T>(IReadOnlyList<Parameter<T>> parameters, double globalNorm)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// One step with everything the chain knows: by default
    /// <see cref="Apply{T}(IReadOnlyList{Parameter{T}}, double)"/> on the step's parameters and norm.
    /// A transform that needs the learning rate or its own state overrides this one.
    /// </summary>
    void Apply<T>(TransformStep<T> step)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(step);
        Apply(step.Parameters, step.GlobalNorm);
    }

    /// <summary>
    /// The transform's state for one parameter tensor of <paramref name="length"/> elements, or null
    /// (the default) when it keeps none. Its <see cref="UpdateState.Step"/> counts the steps taken;
    /// its buffers and numbers are saved in checkpoints.
    /// </summary>
    UpdateState? CreateState<T>(int length)
        where T : unmanaged, IFloatingPointIeee754<T> => null;

    /// <summary>
    /// Whether it changes the parameters themselves (decoupled weight decay), not only their
    /// gradients: such a transform must run where the rule runs, so a Downpour worker, which only
    /// sends gradients, refuses it. False by default.
    /// </summary>
    bool ChangesParameters => false;
}
