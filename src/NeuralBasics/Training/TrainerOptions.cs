namespace NeuralBasics.Training;

/// <summary>
/// How a <see cref="Trainer{T}"/> runs: epochs, mini-batch size, shuffling and its seed, early
/// stopping and checkpoints. (Gradient clipping is a transform of the update:
/// <see cref="Optimizers.ClipByGlobalNorm"/> in an <see cref="Optimizers.UpdateChain"/>.)
/// </summary>
public sealed record TrainerOptions
{
    private readonly int _epochs = 10;
    private readonly int _batchSize = 64;

    /// <summary>Passes over the training set (default 10).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Less than 1.</exception>
    public int Epochs
    {
        get => _epochs;
        init => _epochs = Guard.AtLeast(value, 1, "The number of epochs", nameof(Epochs));
    }

    /// <summary>Samples per mini-batch (default 64); the last batch of an epoch takes what is left.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Less than 1.</exception>
    public int BatchSize
    {
        get => _batchSize;
        init => _batchSize = Guard.AtLeast(value, 1, "The batch size", nameof(BatchSize));
    }

    /// <summary>Visit the samples in a new random order each epoch (default true).</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>The seed of the shuffling: the same seed, data and settings give bit-identical weights.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// When a batch's loss or gradient is not finite: false (the default) stops training with
    /// <see cref="TrainingDivergedException"/> and the last good epoch's weights; true skips that
    /// batch (its step changes nothing), counts it in <see cref="TrainingHistory.SkippedBatches"/>
    /// and goes on.
    /// </summary>
    public bool SkipNonFiniteBatches { get; init; }

    private readonly int _workers = 1;

    /// <summary>
    /// Synchronous data-parallel workers (default 1): each batch is cut into this many shards whose
    /// gradients are computed side by side on replicas of the network and summed in a fixed order
    /// before one update (see <see cref="TrainingStep{T}"/>). Results are deterministic and equal to
    /// one worker's up to float rounding. More workers than cores gains nothing.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Less than 1.</exception>
    public int Workers
    {
        get => _workers;
        init => _workers = Guard.AtLeast(value, 1, "The number of workers", nameof(Workers));
    }

    /// <summary>
    /// How each epoch's training loss and accuracy (<see cref="EpochResult.DataLoss"/>,
    /// <see cref="EpochResult.TrainingAccuracy"/>) are measured. False (the default): as the running
    /// mean over the epoch's mini-batches, each batch scored by its own step just before its update
    /// (what Keras reports): free, but measured on weights that changed along the epoch. True: by a
    /// separate pass over the whole training set with the weights at the epoch's end: exact, and
    /// costs a forward pass over the training set per epoch (for an MLP on Fashion-MNIST about a
    /// third of the epoch's training). The validation set is always evaluated whole. Divergence is
    /// caught either way (a batch's loss, a gradient, or a weight after the epoch's last step that
    /// is not finite); with the full pass, so are finite weights whose loss over the set overflows.
    /// </summary>
    public bool EvaluateTrainingSet { get; init; }

    /// <summary>Lower the learning rate when the validation loss (or, without a validation set, the training objective) stops improving (null: never).</summary>
    public ReduceOnPlateau? ReduceOnPlateau { get; init; }

    /// <summary>
    /// Collect CS231n's babysitting figures (default false): the initial-loss sanity check before the
    /// first epoch (<see cref="TrainingHistory.InitialLoss"/>), and after each epoch the
    /// update-to-weight ratio of every parameter tensor and, for a network, the fraction of dead
    /// ReLU units on the first 1,024 training rows (<see cref="EpochResult.Diagnostics"/>). Costs one
    /// copy of the parameters and a forward pass of 1,024 rows per epoch.
    /// </summary>
    public bool Diagnose { get; init; }

    /// <summary>Stop when a validation metric stops improving, and keep the best epoch's weights (null: never).</summary>
    public EarlyStopping? EarlyStopping { get; init; }

    /// <summary>
    /// When set, a checkpoint (weights, optimizer state, epoch, shuffling state, history) is written
    /// atomically to this path after every epoch; <see cref="Trainer{T}.Resume"/> continues from it.
    /// </summary>
    public string? CheckpointPath { get; init; }

    /// <summary>
    /// Whether <see cref="Trainer{T}.Resume"/> may continue a checkpoint written by a run with other
    /// settings (another learning rate, β, batch size, seed, loss, …). Off by default: the resumed
    /// run would no longer be the run it claims to continue, so such a resume is refused naming
    /// every setting that differs.
    /// </summary>
    public bool AllowChangedSettingsOnResume { get; init; }
}
