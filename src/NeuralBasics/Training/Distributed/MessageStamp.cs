namespace NeuralBasics.Training.Distributed;

/// <summary>
/// Who sent a message to the shared state, and its place in that sender's stream: the worker id
/// and a sequence number that starts at 1 and grows by one with each message of the same kind
/// (pushes, exchanges, all-reduce rounds, fetches each count separately). The receiver uses it to
/// apply a message that arrives twice (a retry after a timeout) only once, and to put messages that
/// arrive out of order back in order.
/// </summary>
/// <remarks>
/// A worker restarted under the same id (a replacement for a process that died) starts its
/// sequences at 1 again; it must stamp a larger <see cref="Incarnation"/> than before (a worker
/// process can use its start time), so that the shared state starts a new stream for it instead of
/// taking its first messages for repeats of the old ones, and refuses what the old one still sends
/// (<see cref="ExchangeStatus.Superseded"/>).
/// </remarks>
public readonly record struct MessageStamp
{
    /// <summary>Stamps a message.</summary>
    /// <param name="worker">The sending worker's id.</param>
    /// <param name="sequence">The message's place in its stream, from 1.</param>
    /// <param name="incarnation">Which start of the worker sends it: 0 for a worker that is never restarted, otherwise larger at each restart.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="worker"/> or <paramref name="incarnation"/> is negative, or <paramref name="sequence"/> is below 1.</exception>
    public MessageStamp(int worker, long sequence, long incarnation = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(worker);
        ArgumentOutOfRangeException.ThrowIfLessThan(sequence, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(incarnation);
        Worker = worker;
        Sequence = sequence;
        Incarnation = incarnation;
    }

    /// <summary>The sending worker's id, 0 or more.</summary>
    public int Worker { get; }

    /// <summary>The message's place in the worker's stream of messages of its kind, from 1.</summary>
    public long Sequence { get; }

    /// <summary>Which start of the worker sent the message (0 unless the worker is ever restarted under its id).</summary>
    public long Incarnation { get; }

    /// <summary>The next message's stamp.</summary>
    public MessageStamp Next() => new(Worker, Sequence + 1, Incarnation);

    /// <inheritdoc/>
    public override string ToString() => Incarnation == 0 ? $"worker {Worker}, message {Sequence}" : $"worker {Worker} (start {Incarnation}), message {Sequence}";
}
