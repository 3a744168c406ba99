using System.Numerics;
using System.Numerics.Tensors;

namespace NeuralBasics.Optimizers;

/// <summary>Plain stochastic gradient descent: <c>w ← w − lr·g</c>.</summary>
/// <remarks>The simplest rule and the baseline for the others. Its state is only the step count.</remarks>
public sealed record Sgd : UpdateRule
{
    /// <summary>Creates the rule; a number converts to a constant learning rate.</summary>
    public Sgd(LearningRateSchedule learningRate)
        : base(learningRate)
    {
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
