using NeuralBasics.Components;

namespace NeuralBasics.Optimizers;

/// <summary>
/// Cosine annealing: <c>lr(t) = lr_min + ½·(lr0 − lr_min)·(1 + cos(π·t / T))</c> for t ≤ T, then
/// lr_min: a slow start of the decay, a fast middle and a gentle landing. Loshchilov and Hutter
/// (2017), "SGDR: Stochastic Gradient Descent with Warm Restarts" (without the restarts).
/// </summary>
public sealed record CosineAnnealing : LearningRateSchedule
{
    /// <inheritdoc/>
    protected override void Describe(ComponentDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        description.Set("initial", Initial);
        description.Set("minimum", Minimum);
        description.Set("total_steps", TotalSteps);
    }

    /// <summary>Creates the schedule.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A rate not positive and finite, lr_min above lr0, or T below 1.</exception>
    public CosineAnnealing(double initial, long totalSteps, double minimum = 1e-6)
    {
        Initial = Guard.PositiveFinite(initial, "The initial learning rate");
        Minimum = Guard.PositiveFinite(minimum, "The minimum learning rate");
        if (minimum > initial)
            throw new ArgumentOutOfRangeException(nameof(minimum), minimum, $"The minimum learning rate must not exceed the initial one ({initial}).");
        TotalSteps = totalSteps >= 1 ? totalSteps
            : throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, "The number of steps T must be at least 1.");
    }

    /// <summary>lr0, the rate at t = 0.</summary>
    public double Initial { get; }

    /// <summary>lr_min, the rate from t = T on.</summary>
    public double Minimum { get; }

    /// <summary>T, the length of the decay in steps.</summary>
    public long TotalSteps { get; }

    /// <inheritdoc/>
    public override double At(long step) => step >= TotalSteps
        ? Minimum
        : Minimum + 0.5 * (Initial - Minimum) * (1 + Math.Cos(Math.PI * step / TotalSteps));
}
