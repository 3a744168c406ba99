using System.Numerics;
using NeuralBasics.Components;

namespace NeuralBasics.Optimizers;

/// <summary>
/// AdaGrad: <c>cache ← cache + g²;  w ← w − lr·g / (√cache + ε)</c>.
/// </summary>
/// <remarks>
/// Each weight gets its own step size, shrinking with the sum of its squared gradients: weights
/// with large or frequent gradients slow down, rare ones keep moving. The cache only grows, so
/// the effective rate decays towards zero (RMSprop fixes that). ε (default 1e-8) keeps the first
/// steps finite. Duchi, Hazan and Singer (2011), "Adaptive Subgradient Methods for Online
/// Learning and Stochastic Optimization".
/// </remarks>
public sealed record AdaGrad : UpdateRule
{
    /// <inheritdoc/>
    protected override void Describe(ComponentDescription description)
    {
        base.Describe(description);
        description.Set("epsilon", Epsilon);
    }

    private readonly double _epsilon;

    /// <summary>Creates the rule.</summary>
    /// <exception cref="ArgumentOutOfRangeException">ε is not positive and finite.</exception>
    public AdaGrad(LearningRateSchedule learningRate, double epsilon = 1e-8)
        : base(learningRate) => Epsilon = epsilon;

    /// <summary>ε, added to the root of the cache.</summary>
    public double Epsilon { get => _epsilon; init => _epsilon = Guard.PositiveFinite(value, "ε", nameof(Epsilon)); }

    /// <inheritdoc/>
    public override UpdateState CreateState<T>(int length) => new CacheState<T>(length);

    /// <inheritdoc/>
    protected override void ApplyCore<T>(Span<T> parameters, ReadOnlySpan<T> gradient, UpdateState state, int offset, double learningRate)
    {
        var s = StateAs<CacheState<T>>(state);
        UpdateLoop.Run(parameters, gradient, s.Cache.AsSpan(offset, parameters.Length), default, new Op<T>(T.CreateChecked(learningRate), T.CreateChecked(Epsilon)));
    }

    /// <summary>The step's constants, with their vector broadcasts made once per step rather than in the loop.</summary>
    private readonly struct Op<T>(T lr, T eps) : IUpdateOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Vector<T> _lr = UpdateLoop.Broadcast(lr), _eps = UpdateLoop.Broadcast(eps);

        public void Invoke(ref T w, T g, ref T cache, ref T unused)
        {
            cache += g * g;
            w -= lr * g / (T.Sqrt(cache) + eps);
        }

        public void Invoke(ref Vector<T> w, Vector<T> g, ref Vector<T> cache, ref Vector<T> unused)
        {
            cache += g * g;
            w -= _lr * g / (Vector.SquareRoot(cache) + _eps);
        }
    }
}
