using System.Numerics;

namespace NeuralBasics.Optimizers;

/// <summary>
/// Adam: with t the step number from 1,
/// <c>m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  m̂ = m / (1 − β1^t);  v̂ = v / (1 − β2^t);
/// w ← w − lr·m̂ / (√v̂ + ε)</c>.
/// </summary>
/// <remarks>
/// Momentum (the first moment m) and RMSprop (the second moment v) together, with both moving
/// averages corrected for their zero start (the bias correction divides by 1 − β^t, which tends to
/// 1). ε is added after the square root. Defaults: lr 0.001, β1 0.9, β2 0.999, ε 1e-8. Kingma and
/// Ba (2015), "Adam: A Method for Stochastic Optimization", Algorithm 1.
/// </remarks>
public sealed record Adam : AdaptiveMomentRule
{
    /// <summary>Creates the rule; a null learning rate means 0.001.</summary>
    /// <exception cref="ArgumentOutOfRangeException">β1 or β2 is outside [0, 1), or ε is not positive and finite.</exception>
    public Adam(LearningRateSchedule? learningRate = null, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
        : base(learningRate ?? new ConstantLearningRate(1e-3), beta1, beta2, epsilon)
    {
    }

    /// <inheritdoc/>
    public override UpdateState CreateState<T>(int length) => new AdamState<T>(length);

    /// <inheritdoc/>
    protected override void ApplyCore<T>(Span<T> parameters, ReadOnlySpan<T> gradient, UpdateState state, int offset, double learningRate) =>
        Update(this, parameters, gradient, StateAs<AdamState<T>>(state), offset, learningRate);

    /// <summary>Adam's step with <paramref name="rule"/>'s β1, β2 and ε: Adam's own, and AdamW's after its decay.</summary>
    internal static void Update<T>(AdaptiveMomentRule rule, Span<T> parameters, ReadOnlySpan<T> gradient, AdamState<T> s, int offset, double learningRate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long t = s.Step + 1;
        double correction1 = 1 - Math.Pow(rule.Beta1, t), correction2 = 1 - Math.Pow(rule.Beta2, t);
        UpdateLoop.Run(parameters, gradient, s.M.AsSpan(offset, parameters.Length), s.V.AsSpan(offset, parameters.Length), new Op<T>(
            T.CreateChecked(rule.Beta1), T.CreateChecked(rule.Beta2), T.CreateChecked(learningRate / correction1),
            T.CreateChecked(1 / correction2), T.CreateChecked(rule.Epsilon)));
    }

    private readonly struct Op<T>(T beta1, T beta2, T stepSize, T inverseCorrection2, T eps) : IUpdateOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Vector<T> _beta1 = UpdateLoop.Broadcast(beta1), _oneMinusBeta1 = UpdateLoop.Broadcast(T.One - beta1), _beta2 = UpdateLoop.Broadcast(beta2),
            _oneMinusBeta2 = UpdateLoop.Broadcast(T.One - beta2), _stepSize = UpdateLoop.Broadcast(stepSize), _inverseCorrection2 = UpdateLoop.Broadcast(inverseCorrection2), _eps = UpdateLoop.Broadcast(eps);

        public void Invoke(ref T w, T g, ref T m, ref T v)
        {
            m = beta1 * m + (T.One - beta1) * g;
            v = beta2 * v + (T.One - beta2) * g * g;
            w -= stepSize * m / (T.Sqrt(v * inverseCorrection2) + eps);
        }

        public void Invoke(ref Vector<T> w, Vector<T> g, ref Vector<T> m, ref Vector<T> v)
        {
            m = _beta1 * m + _oneMinusBeta1 * g;
            v = _beta2 * v + _oneMinusBeta2 * g * g;
            w -= _stepSize * m / (Vector.SquareRoot(v * _inverseCorrection2) + _eps);
        }
    }
}
