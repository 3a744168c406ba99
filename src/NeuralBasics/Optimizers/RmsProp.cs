using System.Numerics;
using NeuralBasics.Components;

namespace NeuralBasics.Optimizers;

/// <summary>
/// RMSprop: <c>cache ← ρ·cache + (1 − ρ)·g²;  w ← w − lr·g / (√cache + ε)</c>.
/// </summary>
/// <remarks>
/// AdaGrad with a leaky cache: a moving average of squared gradients instead of their sum, so the
/// step size adapts per weight without decaying to zero. ρ (default 0.9) is the decay rate, ε
/// (default 1e-8) keeps the first steps finite. Tieleman and Hinton (2012), Coursera lecture 6.5.
/// </remarks>
public sealed record RmsProp : UpdateRule
{
    /// <inheritdoc/>
    protected override void Describe(ComponentDescription description)
    {
        base.Describe(description);
        description.Set("rho", Rho);
        description.Set("epsilon", Epsilon);
    }

    private readonly double _rho, _epsilon;

    /// <summary>Creates the rule.</summary>
    /// <exception cref="ArgumentOutOfRangeException">ρ is outside [0, 1), or ε is not positive and finite.</exception>
    public RmsProp(LearningRateSchedule learningRate, double rho = 0.9, double epsilon = 1e-8)
        : base(learningRate)
    {
        Rho = rho;
        Epsilon = epsilon;
    }

    /// <summary>The decay rate ρ of the cache, in [0, 1).</summary>
    public double Rho { get => _rho; init => _rho = Guard.DecayRate(value, "The decay rate ρ", nameof(Rho)); }

    /// <summary>ε, added to the root of the cache.</summary>
    public double Epsilon { get => _epsilon; init => _epsilon = Guard.PositiveFinite(value, "ε", nameof(Epsilon)); }

    /// <inheritdoc/>
    public override UpdateState CreateState<T>(int length) => new CacheState<T>(length);

    /// <inheritdoc/>
    protected override void ApplyCore<T>(Span<T> parameters, ReadOnlySpan<T> gradient, UpdateState state, int offset, double learningRate)
    {
        var s = StateAs<CacheState<T>>(state);
        UpdateLoop.Run(parameters, gradient, s.Cache.AsSpan(offset, parameters.Length), default,
            new Op<T>(T.CreateChecked(learningRate), T.CreateChecked(Rho), T.CreateChecked(Epsilon)));
    }

    /// <summary>The step's constants, with their vector broadcasts made once per step rather than in the loop.</summary>
    private readonly struct Op<T>(T lr, T rho, T eps) : IUpdateOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Vector<T> _lr = UpdateLoop.Broadcast(lr), _rho = UpdateLoop.Broadcast(rho), _oneMinusRho = UpdateLoop.Broadcast(T.One - rho), _eps = UpdateLoop.Broadcast(eps);

        public void Invoke(ref T w, T g, ref T cache, ref T unused)
        {
            cache = rho * cache + (T.One - rho) * g * g;
            w -= lr * g / (T.Sqrt(cache) + eps);
        }

        public void Invoke(ref Vector<T> w, Vector<T> g, ref Vector<T> cache, ref Vector<T> unused)
        {
            cache = _rho * cache + _oneMinusRho * g * g;
            w -= _lr * g / (Vector.SquareRoot(cache) + _eps);
        }
    }
}
