using NeuralBasics.Components;

namespace NeuralBasics.Optimizers;

/// <summary>
/// What <see cref="Adam"/>, <see cref="Nadam"/> and <see cref="Adamax"/> share: the decay rates β1
/// of the first moment and β2 of the second (or, for Adamax, of the infinity norm), and ε.
/// </summary>
public abstract record AdaptiveMomentRule : UpdateRule
{
    /// <inheritdoc/>
    protected override void Describe(ComponentDescription description)
    {
        base.Describe(description);
        description.Set("beta1", Beta1);
        description.Set("beta2", Beta2);
        description.Set("epsilon", Epsilon);
    }

    private readonly double _beta1, _beta2, _epsilon;

    /// <summary>Sets the shared hyperparameters.</summary>
    /// <exception cref="ArgumentOutOfRangeException">β1 or β2 is outside [0, 1), or ε is not positive and finite.</exception>
    protected AdaptiveMomentRule(LearningRateSchedule learningRate, double beta1, double beta2, double epsilon)
        : base(learningRate)
    {
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
    }

    /// <summary>β1, the decay rate of the first moment, in [0, 1).</summary>
    public double Beta1 { get => _beta1; init => _beta1 = Guard.DecayRate(value, "β1", nameof(Beta1)); }

    /// <summary>β2, the decay rate of the second moment (for Adamax, of the infinity norm), in [0, 1).</summary>
    public double Beta2 { get => _beta2; init => _beta2 = Guard.DecayRate(value, "β2", nameof(Beta2)); }

    /// <summary>ε, which keeps the denominator away from zero.</summary>
    public double Epsilon { get => _epsilon; init => _epsilon = Guard.PositiveFinite(value, "ε", nameof(Epsilon)); }
}
