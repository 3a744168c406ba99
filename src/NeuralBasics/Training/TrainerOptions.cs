namespace NeuralBasics.Training;

/// <summary>How a <see cref="Trainer{T}"/> runs: epochs, mini-batch size, shuffling and its seed.</summary>
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
}
