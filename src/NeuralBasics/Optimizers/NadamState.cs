namespace NeuralBasics.Optimizers;

/// <summary>
/// The state of <see cref="Nadam"/>: the first and second moment estimates, and the product of the
/// momentum coefficients μ₁·μ₂·…·μ_t its bias correction divides by.
/// </summary>
/// <remarks>
/// A checkpoint stores the product beside the moments and the step (<see cref="Scalars"/>); a state
/// that has none (a parameter server's snapshot, or one made by hand with a step) rebuilds it by
/// multiplying the same coefficients in the same order, which gives the same bits.
/// </remarks>
public sealed record NadamState<T>(int Length) : UpdateState(Length)
{
    private long _productStep;
    private double _product = 1.0;

    /// <summary>The first moment m (moving average of gradients), zero at first.</summary>
    public T[] M { get; } = new T[Length];

    /// <summary>The second moment v (moving average of squared gradients), zero at first.</summary>
    public T[] V { get; } = new T[Length];

    /// <summary>μ₁·μ₂·…·μ_t after the step t last applied (1 before the first step).</summary>
    public double MomentumProduct
    {
        get => _product;
    }

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, Array>> Buffers => [new("M", M), new("V", V)];

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, double>> Scalars
    {
        get => _productStep == Step ? [new("momentum_product", _product)] : [];
    }

    /// <inheritdoc/>
    public override void RestoreScalar(string name, double value)
    {
        if (name != "momentum_product")
            base.RestoreScalar(name, value);
        if (!(value > 0 && value <= 1))
            throw new ArgumentException($"A product of momentum coefficients must be in (0, 1]; got {value}.", nameof(value));
        _product = value;
        _productStep = Step;
    }

    /// <summary>
    /// Brings the product up to step <paramref name="t"/>: kept from the previous step, or rebuilt from
    /// 1 after a restore. Called once per tensor and step (<see cref="UpdateRule.BeginStep{T}"/>),
    /// before the slices of the tensor read <see cref="MomentumProduct"/> from several cores.
    /// </summary>
    internal void AdvanceProductTo(long t, Nadam rule)
    {
        if (_productStep == t)
            return;
        if (_productStep == t - 1)
        {
            _product *= rule.MomentumAt(t);
        }
        else
        {
            _product = 1.0;
            for (long i = 1; i <= t; i++)
                _product *= rule.MomentumAt(i);
        }
        _productStep = t;
    }
}
