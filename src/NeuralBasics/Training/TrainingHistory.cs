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
    /// <summary>The objective: data loss plus regularization.</summary>
    public double TotalLoss => DataLoss + RegularizationLoss;

    /// <summary>One line for a log.</summary>
    public override string ToString() =>
        $"epoch {Epoch,3}: loss {TotalLoss:F4} (data {DataLoss:F4} + reg {RegularizationLoss:F4}), " +
        $"train acc {TrainingAccuracy:P1}" + (ValidationAccuracy is { } v ? $", val acc {v:P1}" : "") +
        (Duration > TimeSpan.Zero ? $", {Duration.TotalSeconds:F2} s" : "");
}

/// <summary>Progress within an epoch, reported after every mini-batch step.</summary>
/// <param name="Epoch">The epoch number, from 1.</param>
/// <param name="Batch">The batch number within the epoch, from 1.</param>
/// <param name="BatchCount">Batches per epoch.</param>
/// <param name="DataLoss">The batch's mean data loss (before the step).</param>
/// <param name="Accuracy">The fraction of the batch classified correctly (before the step).</param>
/// <param name="SamplesPerSecond">The batch size over the step's time.</param>
public sealed record BatchResult(int Epoch, int Batch, int BatchCount, double DataLoss, double Accuracy, double SamplesPerSecond);

/// <summary>The per-epoch record of a training run.</summary>
public sealed class TrainingHistory
{
    private readonly List<EpochResult> _epochs = [];

    /// <summary>One entry per completed epoch, in order.</summary>
    public IReadOnlyList<EpochResult> Epochs => _epochs;

    /// <summary>The last completed epoch, or null before the first.</summary>
    public EpochResult? Last => _epochs.Count > 0 ? _epochs[^1] : null;

    /// <summary>With early stopping, the epoch whose weights the model kept; otherwise null.</summary>
    public int? BestEpoch { get; internal set; }

    /// <summary>Batches skipped because their loss or gradient was not finite (with <see cref="TrainerOptions.SkipNonFiniteBatches"/>).</summary>
    public int SkippedBatches { get; internal set; }

    /// <summary>True when early stopping ended the run before the last planned epoch.</summary>
    public bool StoppedEarly { get; internal set; }

    internal void Add(EpochResult result) => _epochs.Add(result);
}
