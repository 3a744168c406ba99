namespace NeuralBasics.Training.Distributed;

/// <summary>Settings of Downpour SGD.</summary>
public sealed record DownpourOptions
{
    private readonly int _workers = 2, _fetchEvery = 1, _pushEvery = 1, _epochs = 10, _batchSize = 64, _shards = 1;

    /// <summary>Workers, each on its own thread and its own shard of the data (default 2).</summary>
    public int Workers { get => _workers; init => _workers = Guard.AtLeast(value, 1, "The number of workers", nameof(Workers)); }

    /// <summary>n_fetch: local steps between fetches of the parameters (default 1).</summary>
    public int FetchEvery { get => _fetchEvery; init => _fetchEvery = Guard.AtLeast(value, 1, "n_fetch", nameof(FetchEvery)); }

    /// <summary>n_push: local steps whose gradients are summed before one push (default 1).</summary>
    public int PushEvery { get => _pushEvery; init => _pushEvery = Guard.AtLeast(value, 1, "n_push", nameof(PushEvery)); }

    /// <summary>Passes of each worker over its shard (default 10).</summary>
    public int Epochs { get => _epochs; init => _epochs = Guard.AtLeast(value, 1, "The number of epochs", nameof(Epochs)); }

    /// <summary>Samples per local step (default 64).</summary>
    public int BatchSize { get => _batchSize; init => _batchSize = Guard.AtLeast(value, 1, "The batch size", nameof(BatchSize)); }

    /// <summary>The seed of the shard assignment and of each worker's shuffling.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// The bound on a push's staleness that the in-process server of <see cref="DownpourTrainer{T}.Train(Data.DataSet{T}, CancellationToken)"/>
    /// enforces; null (the default) accepts any. Servers in other processes take theirs when created.
    /// </summary>
    public StalenessBound? Staleness { get; init; }

    /// <summary>
    /// How many shards the in-process server of <see cref="DownpourTrainer{T}.Train(Data.DataSet{T}, CancellationToken)"/>
    /// splits the model over (<see cref="ShardedParameterServer{T}"/>, equal ranges of its values,
    /// <see cref="ShardedParameterServer{T}.ByRange"/>). 1 (the default) is one whole server; a run with
    /// one worker gives the same bits with any count. Servers in other processes are sharded when created.
    /// </summary>
    public int Shards { get => _shards; init => _shards = Guard.AtLeast(value, 1, "The number of shards", nameof(Shards)); }

    /// <summary>
    /// Whether a worker's exchanges overlap its next steps' compute, as DistBelief's workers did
    /// (default false): a push is sent from a copy of the summed gradients and the worker computes
    /// on; a fetch lands in a buffer of its own and is copied into the replica before the first step
    /// after it has arrived. At most one push and one fetch are in flight: the next push (or fetch)
    /// waits for the one before. Over a network the waits and the server's work hide behind the
    /// compute, at the price of gradients up to one exchange staler; against a server that answers
    /// at once (in process) it gives the same bits as without.
    /// </summary>
    public bool Overlap { get; init; }
}
