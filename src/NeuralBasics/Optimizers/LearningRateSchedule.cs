using NeuralBasics.Components;

namespace NeuralBasics.Optimizers;

/// <summary>
/// A learning rate as a function of the step count: <c>lr(t)</c> for t = 0, 1, 2, ... A plain
/// number converts to a <see cref="ConstantLearningRate"/>, so <c>new Sgd(0.1)</c> works.
/// </summary>
public abstract record LearningRateSchedule : IDescribedComponent
{
    /// <summary>The schedule's type name.</summary>
    string IDescribedComponent.Kind => GetType().Name;

    void IDescribedComponent.Describe(ComponentDescription description) => Describe(description);

    /// <summary>Writes the schedule's constants, which a checkpoint records. A schedule of your own overrides this.</summary>
    protected virtual void Describe(ComponentDescription description)
    {
    }

    /// <summary>The learning rate of step <paramref name="step"/> (0 for the first step); always positive and finite.</summary>
    public abstract double At(long step);

    /// <summary>A constant learning rate.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The rate is not positive and finite.</exception>
    public static implicit operator LearningRateSchedule(double learningRate) => new ConstantLearningRate(learningRate);
}
