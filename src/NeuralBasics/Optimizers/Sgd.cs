using System.Numerics;
using System.Numerics.Tensors;

namespace NeuralBasics.Optimizers;

/// <summary>Plain stochastic gradient descent: <c>w ← w − lr·∇w</c>.</summary>
/// <remarks>The simplest rule and the baseline for the others. Its state is only the step count.</remarks>
public sealed record Sgd : UpdateRule
{
    private readonly LearningRateSchedule _learningRate = null!;

    /// <summary>Creates the rule; a number converts to a constant learning rate.</summary>
    public Sgd(LearningRateSchedule learningRate) => LearningRate = learningRate;

    /// <inheritdoc/>
    public override LearningRateSchedule LearningRate
    {
        get => _learningRate;
        init => _learningRate = value ?? throw new ArgumentNullException(nameof(LearningRate));
    }

    /// <inheritdoc/>
    public override UpdateState CreateState<T>(int length) => new SgdState(length);

    /// <inheritdoc/>
    protected override void ApplyCore<T>(Span<T> parameters, ReadOnlySpan<T> gradient, UpdateState state, double learningRate)
    {
        StateAs<SgdState>(state);
        // w = g · (−lr) + w
        TensorPrimitives.MultiplyAdd(gradient, T.CreateChecked(-learningRate), parameters, parameters);
    }
}

/// <summary>The state of <see cref="Sgd"/>: nothing but the step count.</summary>
public sealed record SgdState(int Length) : UpdateState(Length);
