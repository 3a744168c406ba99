using System.Numerics;
using NeuralBasics.Components;

namespace NeuralBasics.Optimizers;

/// <summary>
/// AdamW, Adam with decoupled weight decay: with t the step number from 1,
/// <c>w ← w·(1 − lr·λ);  m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;
/// w ← w − lr·m̂ / (√v̂ + ε)</c>, m̂ and v̂ bias-corrected as in <see cref="Adam"/>.
/// </summary>
/// <remarks>
/// <para>
/// Loshchilov and Hutter (2019), "Decoupled Weight Decay Regularization", Algorithm 2: the decay
/// shrinks the weights directly, outside Adam's per-weight scaling, so every weight decays at the
/// same rate lr·λ. L2 regularization (<see cref="Regularization.L2Regularization"/>) instead adds
/// 2λw to the gradient, which Adam then divides by √v̂: weights with large gradients are barely
/// regularized. The two are the same only for SGD. This is PyTorch's <c>torch.optim.AdamW</c>
/// (the decay scaled by the scheduled learning rate); use it without an L2 regularizer.
/// </para>
/// <para>
/// Only weights decay: the trainer marks each tensor's state (<see cref="UpdateState.IsWeight"/>)
/// from <see cref="Parameter{T}.IsRegularized"/>, so biases are left alone as everywhere in this
/// library. A Downpour parameter server sees bare tensors and decays them all.
/// Defaults: lr 0.001, β1 0.9, β2 0.999, ε 1e-8, λ 0.01 (PyTorch's).
/// </para>
/// </remarks>
public sealed record AdamW : AdaptiveMomentRule
{
    /// <inheritdoc/>
    protected override void Describe(ComponentDescription description)
    {
        base.Describe(description);
        description.Set("weight_decay", WeightDecay);
    }

    /// <summary>Creates the rule; a null learning rate means 0.001.</summary>
    /// <exception cref="ArgumentOutOfRangeException">β1 or β2 is outside [0, 1), ε is not positive and finite, or λ is negative or not finite.</exception>
    public AdamW(LearningRateSchedule? learningRate = null, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0.01)
        : base(learningRate ?? new ConstantLearningRate(1e-3), beta1, beta2, epsilon)
    {
        if (!(weightDecay >= 0 && double.IsFinite(weightDecay)))
            throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "The weight decay λ must be 0 or more and finite.");
        WeightDecay = weightDecay;
    }

    /// <summary>λ, the decoupled weight decay per unit of learning rate.</summary>
    public double WeightDecay { get; }

    /// <inheritdoc/>
    public override UpdateState CreateState<T>(int length) => new AdamState<T>(length);

    /// <inheritdoc/>
    protected override void ApplyCore<T>(Span<T> parameters, ReadOnlySpan<T> gradient, UpdateState state, int offset, double learningRate)
    {
        var s = StateAs<AdamState<T>>(state);
        long t = s.Step + 1;
        double correction1 = 1 - Math.Pow(Beta1, t), correction2 = 1 - Math.Pow(Beta2, t);
        double keep = s.IsWeight ? 1 - learningRate * WeightDecay : 1;
        UpdateLoop.Run(parameters, gradient, s.M.AsSpan(offset, parameters.Length), s.V.AsSpan(offset, parameters.Length), new Op<T>(
            T.CreateChecked(Beta1), T.CreateChecked(Beta2), T.CreateChecked(learningRate / correction1),
            T.CreateChecked(1 / correction2), T.CreateChecked(Epsilon), T.CreateChecked(keep)));
    }

    /// <summary>The step's constants, with their vector broadcasts made once per step rather than in the loop.</summary>
    private readonly struct Op<T>(T beta1, T beta2, T stepSize, T inverseCorrection2, T eps, T keep) : IUpdateOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Vector<T> _beta1 = UpdateLoop.Broadcast(beta1), _oneMinusBeta1 = UpdateLoop.Broadcast(T.One - beta1), _beta2 = UpdateLoop.Broadcast(beta2),
            _oneMinusBeta2 = UpdateLoop.Broadcast(T.One - beta2), _stepSize = UpdateLoop.Broadcast(stepSize), _inverseCorrection2 = UpdateLoop.Broadcast(inverseCorrection2),
            _eps = UpdateLoop.Broadcast(eps), _keep = UpdateLoop.Broadcast(keep);

        public void Invoke(ref T w, T g, ref T m, ref T v)
        {
            m = beta1 * m + (T.One - beta1) * g;
            v = beta2 * v + (T.One - beta2) * g * g;
            w = w * keep - stepSize * m / (T.Sqrt(v * inverseCorrection2) + eps);
        }

        public void Invoke(ref Vector<T> w, Vector<T> g, ref Vector<T> m, ref Vector<T> v)
        {
            m = _beta1 * m + _oneMinusBeta1 * g;
            v = _beta2 * v + _oneMinusBeta2 * g * g;
            w = w * _keep - _stepSize * m / (Vector.SquareRoot(v * _inverseCorrection2) + _eps);
        }
    }
}
