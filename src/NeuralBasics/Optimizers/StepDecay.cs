using NeuralBasics.Components;

namespace NeuralBasics.Optimizers;

/// <summary>
/// Step decay: <c>lr(t) = lr0 · γ^⌊t / stepSize⌋</c>, the rate multiplied by γ every
/// <see cref="StepSize"/> steps (e.g. halved every epoch with γ = 0.5 and stepSize = batches per epoch).
/// </summary>
public sealed record StepDecay : LearningRateSchedule
{
    /// <inheritdoc/>
    protected override void Describe(ComponentDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        description.Set("initial", Initial);
        description.Set("gamma", Gamma);
        description.Set("step_size", StepSize);
    }

    /// <summary>Creates the schedule.</summary>
    /// <exception cref="ArgumentOutOfRangeException">lr0 not positive and finite, γ outside (0, 1], or stepSize below 1.</exception>
    public StepDecay(double initial, double gamma, long stepSize)
    {
        Initial = Guard.PositiveFinite(initial, "The initial learning rate");
        Gamma = gamma > 0 && gamma <= 1 ? gamma : throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "γ must be in (0, 1].");
        StepSize = stepSize >= 1 ? stepSize : throw new ArgumentOutOfRangeException(nameof(stepSize), stepSize, "The step size must be at least 1.");
    }

    /// <summary>lr0, the rate of the first steps.</summary>
    public double Initial { get; }

    /// <summary>γ, the factor applied every <see cref="StepSize"/> steps.</summary>
    public double Gamma { get; }

    /// <summary>The number of steps between decays.</summary>
    public long StepSize { get; }

    /// <inheritdoc/>
    public override double At(long step) => Math.Max(Initial * Math.Pow(Gamma, step / StepSize), double.Epsilon);
}
