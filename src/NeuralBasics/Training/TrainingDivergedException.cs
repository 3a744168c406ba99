namespace NeuralBasics.Training;

/// <summary>
/// Training produced a non-finite loss or gradient (usually a learning rate that is too large).
/// The score function holds the weights from the end of the last good epoch (or the initial
/// weights), and <see cref="History"/> the epochs completed before it happened.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException(string message, TrainingHistory history)
        : base(message) => History = history;

    /// <summary>The epochs completed before training diverged.</summary>
    public TrainingHistory History { get; }
}
