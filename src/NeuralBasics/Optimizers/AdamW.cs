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
/// <para>
/// It is Adam's step after <see cref="DecoupledWeightDecay"/>'s decay at the start of each step
/// (<see cref="UpdateRule.BeginStep{T}"/>): <c>new UpdateChain([new DecoupledWeightDecay(λ)], new Adam(lr))</c>
/// gives the same bits. This rule is that chain for where a rule must stand alone (a parameter server).
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
    /// <summary>The decay, <c>w ← w·(1 − lr·λ)</c> on weights only (<see cref="DecoupledWeightDecay"/>), before Adam's step.</summary>
    protected internal override void BeginStep<T>(Span<T> parameters, UpdateState state, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.IsWeight)
            DecoupledWeightDecay.Decay(parameters, learningRate, WeightDecay);
    }

    /// <summary>Adam's step.</summary>
    protected override void ApplyCore<T>(Span<T> parameters, ReadOnlySpan<T> gradient, UpdateState state, int offset, double learningRate) =>
        Adam.Update(this, parameters, gradient, StateAs<AdamState<T>>(state), offset, learningRate);
}
