using System.Numerics;

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
    protected override void ApplyCore<T>(Span<T> parameters, ReadOnlySpan<T> gradient, UpdateState state, int offset, double learningRate)
    {
        StateAs<SgdState>(state);
        UpdateLoop.Run(parameters, gradient, default, default, new Op<T>(T.CreateChecked(-learningRate)));
    }

    /// <summary>The step's constants, with their vector broadcasts made once per step rather than in the loop.</summary>
    private readonly struct Op<T>(T minusLr) : IUpdateOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Vector<T> _minusLr = UpdateLoop.Broadcast(minusLr);

        public void Invoke(ref T w, T g, ref T unusedA, ref T unusedB) => w = g * minusLr + w;

        public void Invoke(ref Vector<T> w, Vector<T> g, ref Vector<T> unusedA, ref Vector<T> unusedB) => w = g * _minusLr + w;
    }
}
