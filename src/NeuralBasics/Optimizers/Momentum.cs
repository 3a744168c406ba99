using System.Numerics;
using NeuralBasics.Components;

namespace NeuralBasics.Optimizers;

/// <summary>
/// SGD with momentum: <c>v ← μ·v − lr·g;  w ← w + v</c>.
/// </summary>
/// <remarks>
/// The velocity <c>v</c> (zero at first) accumulates past gradients, so steps grow along
/// directions where the gradient keeps its sign and cancel where it oscillates: the fix for long
/// narrow valleys. μ (default 0.9) is the fraction of velocity kept per step. Polyak (1964),
/// "Some methods of speeding up the convergence of iteration methods".
/// </remarks>
public sealed record Momentum : UpdateRule
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
    public Momentum(LearningRateSchedule learningRate, double mu = 0.9)
        : base(learningRate) => Mu = mu;

    /// <summary>Creates the rule with μ ramped by <paramref name="schedule"/> (Sutskever et al.) instead of constant.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/> is null.</exception>
    public Momentum(LearningRateSchedule learningRate, SutskeverMomentum schedule)
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
        private readonly Vector<T> _mu = UpdateLoop.Broadcast(mu), _lr = UpdateLoop.Broadcast(lr);

        public void Invoke(ref T w, T g, ref T v, ref T unused)
        {
            v = mu * v - lr * g;
            w += v;
        }

        public void Invoke(ref Vector<T> w, Vector<T> g, ref Vector<T> v, ref Vector<T> unused)
        {
            v = _mu * v - _lr * g;
            w += v;
        }
    }
}
