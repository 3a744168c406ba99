namespace NeuralBasics.Training;

/// <summary>
/// What one epoch achieved. The training figures are the running mean over the epoch's
/// mini-batches, or, with <see cref="TrainerOptions.EvaluateTrainingSet"/> (and always for
/// Newton's method), measured on the whole training set with the weights at the epoch's end; the
/// penalty and the validation figures always use the weights at the epoch's end.
/// </summary>
/// <param name="Epoch">The epoch number, from 1.</param>
/// <param name="DataLoss">The mean data loss over the training set (see above for which weights).</param>
/// <param name="RegularizationLoss">The regularization penalty R(W) at the epoch's end.</param>
/// <param name="TrainingAccuracy">The fraction of training samples classified correctly (see above for which weights).</param>
/// <param name="ValidationAccuracy">The fraction of the validation set classified correctly, when one was given.</param>
/// <param name="Duration">
/// The wall-clock time of the epoch's batch loop: gathering the shuffled batches, the training
/// steps and the running metrics. Not included: the full-set evaluations after it (validation
/// set, and the training set when asked), the checkpoint and the progress callbacks. For Newton's
/// method, the iteration.
/// </param>
/// <param name="ValidationLoss">The mean data loss on the validation set, when one was given.</param>
/// <param name="SamplesPerSecond">Training samples processed per second during the epoch's steps.</param>
public sealed record EpochResult(int Epoch, double DataLoss, double RegularizationLoss, double TrainingAccuracy, double? ValidationAccuracy,
    TimeSpan Duration = default, double? ValidationLoss = null, double SamplesPerSecond = 0)
{
    /// <summary>The multiplier <see cref="TrainerOptions.ReduceOnPlateau"/> applied to the learning rate during this epoch (1 without it).</summary>
    public double LearningRateScale { get; init; } = 1;

    /// <summary>The babysitting figures, when <see cref="TrainerOptions.Diagnose"/> asked for them.</summary>
    public Diagnostics.EpochDiagnostics? Diagnostics { get; init; }

    /// <summary>The objective: data loss plus regularization.</summary>
    public double TotalLoss => DataLoss + RegularizationLoss;

    /// <summary>One line for a log.</summary>
    public override string ToString() =>
        $"epoch {Epoch,3}: loss {TotalLoss:F4} (data {DataLoss:F4} + reg {RegularizationLoss:F4}), " +
        $"train acc {TrainingAccuracy:P1}" + (ValidationAccuracy is { } v ? $", val acc {v:P1}" : "") +
        (Duration > TimeSpan.Zero ? $", {Duration.TotalSeconds:F2} s" : "");
}
