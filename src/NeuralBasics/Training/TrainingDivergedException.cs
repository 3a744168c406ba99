namespace NeuralBasics.Training;

/// <summary>
/// Training produced a non-finite loss or gradient (usually a learning rate that is too large).
/// The score function holds the weights from the end of the last good epoch (or the initial
/// weights), and <see cref="History"/> the epochs completed before it happened.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException(string message, TrainingHistory history, int epoch, int? batch, string problem)
        : base(message)
    {
        History = history;
        Epoch = epoch;
        Batch = batch;
        Problem = problem;
    }

    /// <summary>The epochs completed before training diverged.</summary>
    public TrainingHistory History { get; }

    /// <summary>The epoch (from 1) in which it happened.</summary>
    public int Epoch { get; }

    /// <summary>The batch (from 1) in which it happened, or null when the end-of-epoch evaluation found it.</summary>
    public int? Batch { get; }

    /// <summary>Which value was not finite (the batch loss, a parameter's gradient, the epoch's loss).</summary>
    public string Problem { get; }
}
