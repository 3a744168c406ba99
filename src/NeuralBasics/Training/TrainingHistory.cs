namespace NeuralBasics.Training;

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

    /// <summary>The initial-loss sanity check, when <see cref="TrainerOptions.Diagnose"/> asked for it (null otherwise, or for a loss without a known chance value).</summary>
    public Diagnostics.InitialLossCheck? InitialLoss { get; internal set; }

    /// <summary>True when early stopping ended the run before the last planned epoch.</summary>
    public bool StoppedEarly { get; internal set; }

    internal void Add(EpochResult result) => _epochs.Add(result);
}
