using System.Numerics;
using NeuralBasics.Components;

namespace NeuralBasics.Optimizers;

/// <summary>
/// Nesterov momentum, in Sutskever's look-ahead form rewritten so the gradient is taken at the
/// stored weights: <c>v_prev = v;  v ← μ·v − lr·g;  w ← w − μ·v_prev + (1 + μ)·v</c>.
/// </summary>
/// <remarks>
/// Classic momentum steps with the velocity and then looks at the gradient; Nesterov's method
/// looks where the velocity is about to carry it (<c>w + μv</c>) and corrects from there, which
/// damps oscillation. The update above is that method with the variable shifted to the look-ahead
/// point. With μ = 0 it is plain SGD. Sutskever, Martens, Dahl and Hinton (2013), "On the
/// importance of initialization and momentum in deep learning"; Nesterov (1983).
/// </remarks>
public sealed record Nesterov : UpdateRule
{
    /// <inheritdoc/>
    protected override void Describe(ComponentDescription description)
    {
        base.Describe(description);
        description.Set("mu", Mu);
        if (MomentumSchedule is { } schedule)
            description.SetComponent("momentum_schedule", schedule);
    }

    private readonly double _mu;

    /// <summary>Creates the rule.</summary>
    /// <exception cref="ArgumentOutOfRangeException">μ is outside [0, 1).</exception>
    public Nesterov(LearningRateSchedule learningRate, double mu = 0.9)
        : base(learningRate) => Mu = mu;

    /// <summary>
    /// Creates the rule with μ ramped by <paramref name="schedule"/> (Sutskever et al.) instead of
    /// constant; each step uses its own μ_t in the update above.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/> is null.</exception>
    public Nesterov(LearningRateSchedule learningRate, SutskeverMomentum schedule)
        : base(learningRate)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        MomentumSchedule = schedule;
        Mu = schedule.Maximum;
    }

    /// <summary>The ramp μ follows, or null for the constant <see cref="Mu"/>.</summary>
    public SutskeverMomentum? MomentumSchedule { get; }

    /// <summary>The momentum coefficient μ in [0, 1) (with a <see cref="MomentumSchedule"/>, its maximum).</summary>
    public double Mu { get => _mu; init => _mu = Guard.DecayRate(value, "The momentum μ", nameof(Mu)); }

    /// <inheritdoc/>
    public override UpdateState CreateState<T>(int length) => new VelocityState<T>(length);

    /// <inheritdoc/>
    protected override void ApplyCore<T>(Span<T> parameters, ReadOnlySpan<T> gradient, UpdateState state, int offset, double learningRate)
    {
        var s = StateAs<VelocityState<T>>(state);
        UpdateLoop.Run(parameters, gradient, s.Velocity.AsSpan(offset, parameters.Length), default, new Op<T>(T.CreateChecked(MomentumSchedule?.At(s.Step) ?? Mu), T.CreateChecked(learningRate)));
    }

    /// <summary>The step's constants, with their vector broadcasts made once per step rather than in the loop.</summary>
    private readonly struct Op<T>(T mu, T lr) : IUpdateOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Vector<T> _mu = UpdateLoop.Broadcast(mu), _lr = UpdateLoop.Broadcast(lr), _onePlusMu = UpdateLoop.Broadcast(T.One + mu);

        public void Invoke(ref T w, T g, ref T v, ref T unused)
        {
            T previous = v;
            v = mu * v - lr * g;
            w += (T.One + mu) * v - mu * previous;
        }

        public void Invoke(ref Vector<T> w, Vector<T> g, ref Vector<T> v, ref Vector<T> unused)
        {
            Vector<T> previous = v;
            v = _mu * v - _lr * g;
            w += _onePlusMu * v - _mu * previous;
        }
    }
}
