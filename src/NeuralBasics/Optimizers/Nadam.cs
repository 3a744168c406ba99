using System.Numerics;
using NeuralBasics.Components;

namespace NeuralBasics.Optimizers;

/// <summary>
/// Nadam, Adam with Nesterov momentum: with t the step number from 1, momentum coefficients
/// <c>μ_t = β1·(1 − ½·0.96^(t·ψ))</c> and their product <c>Π_t = μ₁·…·μ_t</c>,
/// <c>m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;
/// m̄ = μ_(t+1)·m / (1 − Π_t·μ_(t+1)) + (1 − μ_t)·g / (1 − Π_t);  v̂ = v / (1 − β2^t);
/// w ← w − lr·m̄ / (√v̂ + ε)</c>.
/// </summary>
/// <remarks>
/// <para>
/// Where Adam steps with the bias-corrected momentum, Nadam steps with the momentum it is about
/// to have: the next step's share of the average plus this gradient's share, each with its own
/// bias correction. This is Algorithm 2 of Dozat (2016), "Incorporating Nesterov Momentum into
/// Adam", with his momentum warm-up schedule (ψ = 0.004 by default), the form PyTorch's
/// <c>torch.optim.NAdam</c> (momentum_decay) and Keras' <c>Nadam</c> implement: the same
/// trajectory as theirs. The product Π_t is kept in <see cref="NadamState{T}"/>.
/// </para>
/// <para>
/// With <c>momentumDecay: null</c> the momentum is the constant μ_t = β1 instead (Π_t = β1^t), the
/// simplified form of earlier versions of this library and of some write-ups; its first step from
/// the same point differs from PyTorch's by about 5% of the learning rate.
/// Defaults: lr 0.002, β1 0.9, β2 0.999, ε 1e-8, ψ 0.004.
/// </para>
/// </remarks>
public sealed record Nadam : AdaptiveMomentRule
{
    /// <inheritdoc/>
    protected override void Describe(ComponentDescription description)
    {
        base.Describe(description);
        if (MomentumDecay is { } decay)
            description.Set("momentum_decay", decay);
    }

    /// <summary>Creates the rule; a null learning rate means 0.002.</summary>
    /// <param name="learningRate">The learning rate or schedule.</param>
    /// <param name="beta1">β1, the decay of the first moment and the momentum's ceiling.</param>
    /// <param name="beta2">β2, the decay of the second moment.</param>
    /// <param name="epsilon">ε, added to √v̂.</param>
    /// <param name="momentumDecay">ψ of the warm-up μ_t = β1·(1 − ½·0.96^(t·ψ)) (default 0.004, as PyTorch and Keras); null for a constant μ = β1.</param>
    /// <exception cref="ArgumentOutOfRangeException">β1 or β2 is outside [0, 1), ε is not positive and finite, or ψ is negative or not finite.</exception>
    public Nadam(LearningRateSchedule? learningRate = null, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double? momentumDecay = 0.004)
        : base(learningRate ?? new ConstantLearningRate(2e-3), beta1, beta2, epsilon)
    {
        if (momentumDecay is { } psi && !(psi >= 0 && double.IsFinite(psi)))
            throw new ArgumentOutOfRangeException(nameof(momentumDecay), psi, "ψ must be 0 or more and finite.");
        MomentumDecay = momentumDecay;
    }

    /// <summary>ψ of the momentum warm-up, or null for a constant momentum μ = β1.</summary>
    public double? MomentumDecay { get; }

    /// <summary>The momentum coefficient μ_t of step <paramref name="t"/> (from 1).</summary>
    public double MomentumAt(long t) => MomentumDecay is { } psi ? Beta1 * (1 - 0.5 * Math.Pow(0.96, t * psi)) : Beta1;

    /// <inheritdoc/>
    public override UpdateState CreateState<T>(int length) => new NadamState<T>(length);

    /// <summary>Brings the state's momentum product up to this step, once per tensor, before the slices read it.</summary>
    protected internal override void BeginStep<T>(Span<T> parameters, UpdateState state, double learningRate)
    {
        if (MomentumDecay is not null)
            StateAs<NadamState<T>>(state).AdvanceProductTo(state.Step + 1, this);
    }

    /// <inheritdoc/>
    protected override void ApplyCore<T>(Span<T> parameters, ReadOnlySpan<T> gradient, UpdateState state, int offset, double learningRate)
    {
        var s = StateAs<NadamState<T>>(state);
        long t = s.Step + 1;
        double momentumScale, gradientScale;
        if (MomentumDecay is null)
        {
            // Π_t = β1^t in closed form.
            momentumScale = Beta1 / (1 - Math.Pow(Beta1, t + 1));
            gradientScale = (1 - Beta1) / (1 - Math.Pow(Beta1, t));
        }
        else
        {
            double mu = MomentumAt(t), next = MomentumAt(t + 1);
            double product = s.MomentumProduct;
            momentumScale = next / (1 - product * next);
            gradientScale = (1 - mu) / (1 - product);
        }
        double inverseCorrection2 = 1 / (1 - Math.Pow(Beta2, t));
        UpdateLoop.Run(parameters, gradient, s.M.AsSpan(offset, parameters.Length), s.V.AsSpan(offset, parameters.Length), new Op<T>(
            T.CreateChecked(Beta1), T.CreateChecked(Beta2), T.CreateChecked(momentumScale), T.CreateChecked(gradientScale),
            T.CreateChecked(inverseCorrection2), T.CreateChecked(learningRate), T.CreateChecked(Epsilon)));
    }

    /// <summary>The step's constants, with their vector broadcasts made once per step rather than in the loop.</summary>
    private readonly struct Op<T>(T beta1, T beta2, T momentumScale, T gradientScale, T inverseCorrection2, T lr, T eps)
        : IUpdateOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Vector<T> _beta1 = UpdateLoop.Broadcast(beta1), _oneMinusBeta1 = UpdateLoop.Broadcast(T.One - beta1), _beta2 = UpdateLoop.Broadcast(beta2),
            _oneMinusBeta2 = UpdateLoop.Broadcast(T.One - beta2), _momentumScale = UpdateLoop.Broadcast(momentumScale), _gradientScale = UpdateLoop.Broadcast(gradientScale),
            _inverseCorrection2 = UpdateLoop.Broadcast(inverseCorrection2), _lr = UpdateLoop.Broadcast(lr), _eps = UpdateLoop.Broadcast(eps);

        public void Invoke(ref T w, T g, ref T m, ref T v)
        {
            m = beta1 * m + (T.One - beta1) * g;
            v = beta2 * v + (T.One - beta2) * g * g;
            T mBar = momentumScale * m + gradientScale * g;
            w -= lr * mBar / (T.Sqrt(v * inverseCorrection2) + eps);
        }

        public void Invoke(ref Vector<T> w, Vector<T> g, ref Vector<T> m, ref Vector<T> v)
        {
            m = _beta1 * m + _oneMinusBeta1 * g;
            v = _beta2 * v + _oneMinusBeta2 * g * g;
            Vector<T> mBar = _momentumScale * m + _gradientScale * g;
            w -= _lr * mBar / (Vector.SquareRoot(v * _inverseCorrection2) + _eps);
        }
    }
}
