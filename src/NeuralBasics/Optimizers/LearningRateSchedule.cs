namespace NeuralBasics.Optimizers;

/// <summary>
/// A learning rate as a function of the step count: <c>lr(t)</c> for t = 0, 1, 2, ... A plain
/// number converts to a <see cref="ConstantLearningRate"/>, so <c>new Sgd(0.1)</c> works.
/// </summary>
public abstract record LearningRateSchedule
{
    /// <summary>The learning rate of step <paramref name="step"/> (0 for the first step); always positive and finite.</summary>
    public abstract double At(long step);

    /// <summary>A constant learning rate.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The rate is not positive and finite.</exception>
    public static implicit operator LearningRateSchedule(double learningRate) => new ConstantLearningRate(learningRate);
}
