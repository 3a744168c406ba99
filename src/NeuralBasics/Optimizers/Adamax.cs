using System.Numerics;
using NeuralBasics.Components;

namespace NeuralBasics.Optimizers;

/// <summary>
/// Adamax, Adam with the infinity norm: with t the step number from 1,
/// <c>m ← β1·m + (1 − β1)·g;  u ← max(β2·u, |g|);  w ← w − (lr / (1 − β1^t))·m / (u + ε)</c>.
/// </summary>
/// <remarks>
/// <para>
/// The second moment of Adam becomes an exponentially weighted maximum of |g|, which needs no bias
/// correction and is less sensitive to gradient outliers. Kingma and Ba (2015), section 7.1
/// (Algorithm 2). The paper divides by u alone; ε (default 1e-8) keeps a weight whose gradient has
/// always been 0 at a zero step instead of 0/0. Where ε goes is a choice:
/// </para>
/// <list type="bullet">
/// <item><see cref="AdamaxEpsilon.Denominator"/> (default; Keras): <c>w ← w − (lr/(1 − β1^t))·m/(u + ε)</c>, u = max(β2·u, |g|).</item>
/// <item><see cref="AdamaxEpsilon.InsideMax"/> (PyTorch's <c>torch.optim.Adamax</c>): <c>u ← max(β2·u, |g| + ε)</c> and
/// <c>w ← w − (lr/(1 − β1^t))·m/u</c>; ε then also lifts u, and the two differ by about ε/|g| relative.</item>
/// </list>
/// <para>Defaults: lr 0.002, β1 0.9, β2 0.999.</para>
/// </remarks>
public sealed record Adamax : AdaptiveMomentRule
{
    /// <inheritdoc/>
    protected override void Describe(ComponentDescription description)
    {
        base.Describe(description);
        description.Set("epsilon_placement", EpsilonPlacement.ToString());
    }

    /// <summary>Creates the rule; a null learning rate means 0.002.</summary>
    /// <exception cref="ArgumentOutOfRangeException">β1 or β2 is outside [0, 1), ε is not positive and finite, or the placement is not defined.</exception>
    public Adamax(LearningRateSchedule? learningRate = null, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8,
        AdamaxEpsilon epsilonPlacement = AdamaxEpsilon.Denominator)
        : base(learningRate ?? new ConstantLearningRate(2e-3), beta1, beta2, epsilon)
    {
        if (!Enum.IsDefined(epsilonPlacement))
            throw new ArgumentOutOfRangeException(nameof(epsilonPlacement), epsilonPlacement, "Not an ε placement.");
        EpsilonPlacement = epsilonPlacement;
    }

    /// <summary>Where ε enters (see the remarks).</summary>
    public AdamaxEpsilon EpsilonPlacement { get; }

    /// <inheritdoc/>
    public override UpdateState CreateState<T>(int length) => new AdamaxState<T>(length);

    /// <inheritdoc/>
    protected override void ApplyCore<T>(Span<T> parameters, ReadOnlySpan<T> gradient, UpdateState state, int offset, double learningRate)
    {
        var s = StateAs<AdamaxState<T>>(state);
        long t = s.Step + 1;
        UpdateLoop.Run(parameters, gradient, s.M.AsSpan(offset, parameters.Length), s.U.AsSpan(offset, parameters.Length), new Op<T>(
            T.CreateChecked(Beta1), T.CreateChecked(Beta2), T.CreateChecked(learningRate / (1 - Math.Pow(Beta1, t))),
            T.CreateChecked(Epsilon), EpsilonPlacement == AdamaxEpsilon.InsideMax));
    }

    /// <summary>The step's constants, with their vector broadcasts made once per step rather than in the loop.</summary>
    private readonly struct Op<T>(T beta1, T beta2, T stepSize, T eps, bool inside) : IUpdateOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Vector<T> _beta1 = UpdateLoop.Broadcast(beta1), _oneMinusBeta1 = UpdateLoop.Broadcast(T.One - beta1), _beta2 = UpdateLoop.Broadcast(beta2), _stepSize = UpdateLoop.Broadcast(stepSize), _eps = UpdateLoop.Broadcast(eps);

        public void Invoke(ref T w, T g, ref T m, ref T u)
        {
            m = beta1 * m + (T.One - beta1) * g;
            if (inside)
            {
                u = T.Max(beta2 * u, T.Abs(g) + eps);
                w -= stepSize * m / u;
            }
            else
            {
                u = T.Max(beta2 * u, T.Abs(g));
                w -= stepSize * m / (u + eps);
            }
        }

        public void Invoke(ref Vector<T> w, Vector<T> g, ref Vector<T> m, ref Vector<T> u)
        {
            m = _beta1 * m + _oneMinusBeta1 * g;
            if (inside)
            {
                u = Vector.Max(_beta2 * u, Vector.Abs(g) + _eps);
                w -= _stepSize * m / u;
            }
            else
            {
                u = Vector.Max(_beta2 * u, Vector.Abs(g));
                w -= _stepSize * m / (u + _eps);
            }
        }
    }
}
