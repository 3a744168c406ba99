namespace NeuralBasics.Training.Distributed;

/// <summary>How a <see cref="SynchronousWorker{T}"/> trains.</summary>
public sealed record SynchronousOptions
{
    private readonly int _epochs = 10, _batchSize = 64;

    /// <summary>Passes over the worker's rows. Default 10.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 1.</exception>
    public int Epochs { get => _epochs; init => _epochs = Guard.AtLeast(value, 1, "The number of epochs", nameof(Epochs)); }

    /// <summary>Rows per step on each worker; the step's batch is every worker's together. Default 64.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 1.</exception>
    public int BatchSize { get => _batchSize; init => _batchSize = Guard.AtLeast(value, 1, "The batch size", nameof(BatchSize)); }

    /// <summary>Whether each worker reshuffles its rows every epoch (with seed·7919 + its id). Default true.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>The shuffling seed.</summary>
    public int Seed { get; init; }
}
