using System.Numerics;
using NeuralBasics.Components;

namespace NeuralBasics.Optimizers;

/// <summary>
/// AdaDelta: <c>E[g²] ← ρ·E[g²] + (1 − ρ)·g²;  Δ = −(√(E[Δ²] + ε) / √(E[g²] + ε))·g;
/// E[Δ²] ← ρ·E[Δ²] + (1 − ρ)·Δ²;  w ← w + lr·Δ</c>.
/// </summary>
/// <remarks>
/// RMSprop whose step size is itself a running RMS of past updates, so the update has the units
/// of the weights and needs no hand-tuned rate: the paper's update is the formula above with
/// lr = 1 (the default; a smaller lr scales every step, as PyTorch's does). Defaults: ρ 0.95,
/// ε 1e-6. Zeiler (2012), "ADADELTA: An Adaptive Learning Rate Method", Algorithm 1.
/// </remarks>
public sealed record AdaDelta : UpdateRule
{
    /// <inheritdoc/>
    protected override void Describe(ComponentDescription description)
    {
        base.Describe(description);
        description.Set("rho", Rho);
        description.Set("epsilon", Epsilon);
    }

    private readonly double _rho, _epsilon;

    /// <summary>Creates the rule; a null learning rate means 1, the paper's method.</summary>
    /// <exception cref="ArgumentOutOfRangeException">ρ is outside [0, 1), or ε is not positive and finite.</exception>
    public AdaDelta(LearningRateSchedule? learningRate = null, double rho = 0.95, double epsilon = 1e-6)
        : base(learningRate ?? new ConstantLearningRate(1.0))
    {
        Rho = rho;
        Epsilon = epsilon;
    }

    /// <summary>The decay rate ρ of both running averages, in [0, 1).</summary>
    public double Rho { get => _rho; init => _rho = Guard.DecayRate(value, "The decay rate ρ", nameof(Rho)); }

    /// <summary>ε, inside both square roots.</summary>
    public double Epsilon { get => _epsilon; init => _epsilon = Guard.PositiveFinite(value, "ε", nameof(Epsilon)); }

    /// <inheritdoc/>
    public override UpdateState CreateState<T>(int length) => new AdaDeltaState<T>(length);

    /// <inheritdoc/>
    protected override void ApplyCore<T>(Span<T> parameters, ReadOnlySpan<T> gradient, UpdateState state, int offset, double learningRate)
    {
        var s = StateAs<AdaDeltaState<T>>(state);
        UpdateLoop.Run(parameters, gradient,
            s.SquaredGradients.AsSpan(offset, parameters.Length), s.SquaredUpdates.AsSpan(offset, parameters.Length),
            new Op<T>(T.CreateChecked(Rho), T.CreateChecked(Epsilon), T.CreateChecked(learningRate)));
    }

    /// <summary>The step's constants, with their vector broadcasts made once per step rather than in the loop.</summary>
    private readonly struct Op<T>(T rho, T eps, T lr) : IUpdateOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Vector<T> _rho = UpdateLoop.Broadcast(rho), _oneMinusRho = UpdateLoop.Broadcast(T.One - rho), _eps = UpdateLoop.Broadcast(eps), _lr = UpdateLoop.Broadcast(lr);

        public void Invoke(ref T w, T g, ref T squaredGradients, ref T squaredUpdates)
        {
            squaredGradients = rho * squaredGradients + (T.One - rho) * g * g;
            T delta = -(T.Sqrt(squaredUpdates + eps) / T.Sqrt(squaredGradients + eps)) * g;
            squaredUpdates = rho * squaredUpdates + (T.One - rho) * delta * delta;
            w += lr * delta;
        }

        public void Invoke(ref Vector<T> w, Vector<T> g, ref Vector<T> squaredGradients, ref Vector<T> squaredUpdates)
        {
            squaredGradients = _rho * squaredGradients + _oneMinusRho * g * g;
            Vector<T> delta = -(Vector.SquareRoot(squaredUpdates + _eps) / Vector.SquareRoot(squaredGradients + _eps)) * g;
            squaredUpdates = _rho * squaredUpdates + _oneMinusRho * delta * delta;
            w += _lr * delta;
        }
    }
}
