namespace NeuralBasics.Training.Distributed;

/// <summary>
/// Who sent a message to the shared state, and its place in that sender's stream: the worker id
/// and a sequence number that starts at 1 and grows by one with each message of the same kind
/// (pushes, exchanges, all-reduce rounds, fetches each count separately). The receiver uses it to
/// apply a message that arrives twice (a retry after a timeout) only once, and to put messages that
/// arrive out of order back in order.
/// </summary>
/// <remarks>
/// A worker id names one run of one worker: a worker that restarts from scratch must use a new id
/// (or continue its sequence), or its first messages are taken for repeats of the old ones.
/// </remarks>
public readonly record struct MessageStamp
{
    /// <summary>Stamps a message.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="worker"/> is negative or <paramref name="sequence"/> is below 1.</exception>
    public MessageStamp(int worker, long sequence)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(worker);
        ArgumentOutOfRangeException.ThrowIfLessThan(sequence, 1);
        Worker = worker;
        Sequence = sequence;
    }

    /// <summary>The sending worker's id, 0 or more.</summary>
    public int Worker { get; }

    /// <summary>The message's place in the worker's stream of messages of its kind, from 1.</summary>
    public long Sequence { get; }

    /// <summary>The next message's stamp.</summary>
    public MessageStamp Next() => new(Worker, Sequence + 1);

    /// <inheritdoc/>
    public override string ToString() => $"worker {Worker}, message {Sequence}";
}
