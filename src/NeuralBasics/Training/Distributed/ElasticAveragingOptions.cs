namespace NeuralBasics.Training.Distributed;

/// <summary>Settings of elastic averaging SGD.</summary>
public sealed record ElasticAveragingOptions
{
    private readonly int _workers = 2, _tau = 4, _epochs = 10, _batchSize = 64;
    private readonly double _alpha = 0.2;

    /// <summary>Workers, each on its own thread and its own shard of the data (default 2).</summary>
    public int Workers { get => _workers; init => _workers = Guard.AtLeast(value, 1, "The number of workers", nameof(Workers)); }

    /// <summary>τ: local steps between elastic exchanges (default 4).</summary>
    public int Tau { get => _tau; init => _tau = Guard.AtLeast(value, 1, "τ", nameof(Tau)); }

    /// <summary>α: the elastic force, in [0, 1] (default 0.2; 0 leaves the workers independent).</summary>
    public double Alpha
    {
        get => _alpha;
        init => _alpha = value >= 0 && value <= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Alpha), value, "α must be in [0, 1].");
    }

    /// <summary>Passes of each worker over its shard (default 10).</summary>
    public int Epochs { get => _epochs; init => _epochs = Guard.AtLeast(value, 1, "The number of epochs", nameof(Epochs)); }

    /// <summary>Samples per local step (default 64).</summary>
    public int BatchSize { get => _batchSize; init => _batchSize = Guard.AtLeast(value, 1, "The batch size", nameof(BatchSize)); }

    /// <summary>The seed of the shard assignment and of each worker's shuffling.</summary>
    public int Seed { get; init; }
}
