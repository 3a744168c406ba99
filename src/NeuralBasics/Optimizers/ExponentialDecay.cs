using NeuralBasics.Components;

namespace NeuralBasics.Optimizers;

/// <summary>Exponential decay: <c>lr(t) = lr0 · γ^t</c>, a smooth version of <see cref="StepDecay"/>.</summary>
public sealed record ExponentialDecay : LearningRateSchedule
{
    /// <inheritdoc/>
    protected override void Describe(ComponentDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        description.Set("initial", Initial);
        description.Set("gamma", Gamma);
    }

    /// <summary>Creates the schedule.</summary>
    /// <exception cref="ArgumentOutOfRangeException">lr0 not positive and finite, or γ outside (0, 1].</exception>
    public ExponentialDecay(double initial, double gamma)
    {
        Initial = Guard.PositiveFinite(initial, "The initial learning rate");
        Gamma = gamma > 0 && gamma <= 1 ? gamma : throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "γ must be in (0, 1].");
    }

    /// <summary>lr0, the rate of the first step.</summary>
    public double Initial { get; }

    /// <summary>γ, the factor applied every step.</summary>
    public double Gamma { get; }

    /// <inheritdoc/>
    public override double At(long step) => Math.Max(Initial * Math.Pow(Gamma, step), double.Epsilon);
}
