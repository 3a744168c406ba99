using NeuralBasics.Components;

namespace NeuralBasics.Optimizers;

/// <summary>
/// The momentum ramp of Sutskever, Martens, Dahl and Hinton (2013), "On the importance of
/// initialization and momentum in deep learning", equation 5:
/// <c>μ_t = min(1 − 2^(−1 − log₂(⌊t / every⌋ + 1)), μ_max)</c> — 0.5 for the first
/// <see cref="Every"/> steps, then 0.75, 0.833, 0.875, 0.9, … up to μ_max. Small momentum
/// while the weights are far from anything good, large once the direction is steady.
/// </summary>
/// <remarks>For <see cref="Momentum"/> and <see cref="Nesterov"/>: <c>new Momentum(0.01, new SutskeverMomentum(0.99))</c>.</remarks>
public sealed record SutskeverMomentum : IDescribedComponent
{
    string IDescribedComponent.Kind => "sutskever";

    void IDescribedComponent.Describe(ComponentDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        description.Set("maximum", Maximum);
        description.Set("every", Every);
    }

    /// <summary>Creates the ramp.</summary>
    /// <param name="maximum">μ_max, in [0, 1) (default 0.99; the paper tried 0.9 to 0.999).</param>
    /// <param name="every">Steps per rung (default 250, the paper's).</param>
    /// <exception cref="ArgumentOutOfRangeException">μ_max is outside [0, 1), or <paramref name="every"/> is below 1.</exception>
    public SutskeverMomentum(double maximum = 0.99, int every = 250)
    {
        Maximum = Guard.DecayRate(maximum, "The largest momentum μ_max", nameof(maximum));
        Every = Guard.AtLeast(every, 1, "The steps per rung", nameof(every));
    }

    /// <summary>μ_max.</summary>
    public double Maximum { get; }

    /// <summary>Steps per rung.</summary>
    public int Every { get; }

    /// <summary>μ for the step that follows <paramref name="step"/> steps already taken (t = step, from 0).</summary>
    public double At(long step) => Math.Min(1 - Math.Pow(2, -1 - Math.Log2(step / Every + 1)), Maximum);
}
