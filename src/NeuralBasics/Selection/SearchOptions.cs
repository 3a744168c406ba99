namespace NeuralBasics.Selection;

/// <summary>Settings of a <see cref="HyperparameterSearch"/>.</summary>
public sealed record SearchOptions
{
    private readonly int _trials = 20, _gridPoints = 3, _parallelism, _waveSize = 4, _pruneFromEpoch = 2;

    /// <summary>Trials of a random search (default 20).</summary>
    public int Trials { get => _trials; init => _trials = Guard.AtLeast(value, 1, "The number of trials", nameof(Trials)); }

    /// <summary>Values per range in a grid search (choices keep their own values; default 3).</summary>
    public int GridPoints { get => _gridPoints; init => _gridPoints = Guard.AtLeast(value, 1, "The grid points per range", nameof(GridPoints)); }

    /// <summary>The search's seed: it draws the random values and derives every trial's seed.</summary>
    public int Seed { get; init; }

    /// <summary>Trials trained at once (0, the default: one per core).</summary>
    public int Parallelism { get => _parallelism; init => _parallelism = Guard.AtLeast(value, 0, "The parallelism", nameof(Parallelism)); }

    /// <summary>
    /// Trials per wave (default 4): a wave's trials run together, and pruning compares a trial only
    /// with the trials of earlier waves, so which trials are pruned does not depend on how many
    /// cores there are or which trial finishes first.
    /// </summary>
    public int WaveSize { get => _waveSize; init => _waveSize = Guard.AtLeast(value, 1, "The wave size", nameof(WaveSize)); }

    /// <summary>Stop a trial whose validation loss, from this epoch on, is above the median of earlier waves' trials at the same epoch (default 2).</summary>
    public int PruneFromEpoch { get => _pruneFromEpoch; init => _pruneFromEpoch = Guard.AtLeast(value, 1, "The first epoch pruning looks at", nameof(PruneFromEpoch)); }

    /// <summary>Whether poor trials are stopped early (default true).</summary>
    public bool Prune { get; init; } = true;
}
