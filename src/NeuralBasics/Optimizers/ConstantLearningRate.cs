using NeuralBasics.Components;

namespace NeuralBasics.Optimizers;

/// <summary>The same learning rate at every step.</summary>
public sealed record ConstantLearningRate : LearningRateSchedule
{
    /// <inheritdoc/>
    protected override void Describe(ComponentDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        description.Set("value", Value);
    }

    /// <summary>Creates the schedule.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is not positive and finite.</exception>
    public ConstantLearningRate(double value)
    {
        Value = Guard.PositiveFinite(value, "The learning rate");
    }

    /// <summary>The learning rate.</summary>
    public double Value { get; }

    /// <inheritdoc/>
    public override double At(long step) => Value;

    /// <inheritdoc/>
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
