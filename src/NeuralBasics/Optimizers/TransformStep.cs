using System.Numerics;

namespace NeuralBasics.Optimizers;

/// <summary>
/// One step as a gradient transform sees it (<see cref="IGradientTransform.Apply{T}(TransformStep{T})"/>):
/// the parameters with their gradients, the global gradient norm, the rule's learning rate of this
/// step for each tensor, and the transform's own state for each tensor.
/// </summary>
public sealed class TransformStep<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly double[] _learningRates;
    private UpdateState?[] _states;

    /// <summary>A step over <paramref name="parameters"/>, the learning rates filled by the chain before each step.</summary>
    internal TransformStep(IReadOnlyList<Parameter<T>> parameters, double[] learningRates)
    {
        Parameters = parameters;
        _learningRates = learningRates;
        _states = new UpdateState?[parameters.Count];
    }

    /// <summary>The parameters, their gradients already computed (and transformed by the transforms before this one).</summary>
    public IReadOnlyList<Parameter<T>> Parameters { get; }

    /// <summary>The global norm <c>‖g‖₂</c> of the gradient before any transform.</summary>
    public double GlobalNorm { get; internal set; }

    /// <summary>
    /// The learning rate the rule applies to tensor <paramref name="tensor"/> in this step (its
    /// schedule at the tensor's step count, times reduce-on-plateau's factor); NaN where the rule
    /// runs elsewhere (a Downpour worker: the parameter server applies the rule).
    /// </summary>
    public double LearningRate(int tensor) => _learningRates[tensor];

    /// <summary>The transform's state for tensor <paramref name="tensor"/>, or null when it keeps none.</summary>
    public UpdateState? State(int tensor) => _states[tensor];

    /// <summary>Points the step at one transform's states.</summary>
    internal void Use(UpdateState?[] states) => _states = states;
}
