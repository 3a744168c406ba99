using System.Numerics;
using System.Numerics.Tensors;

namespace NeuralBasics.Training.Distributed;

/// <summary>
/// A synchronous all-reduce among the workers in two hops, with no shared state to funnel through
/// (a reduce-scatter, then an all-gather): the flattened gradients are cut into as many chunks as
/// workers and worker c owns chunk c. Every worker sends each other owner its part of that owner's
/// chunk, all at once; each owner adds the parts in worker-id order — the order
/// <see cref="AllReduceCore{T}"/> adds them, so the sums are bit for bit the one-grain all-reduce's —
/// and sends its finished chunk to every other worker. Each worker's link carries 2(N−1)/N times the
/// gradients per round each way, the least an all-reduce can, and every message crosses one link
/// with nothing queued behind it on another worker, so a round costs about two chunk transfers'
/// latency where a chain (<see cref="RingAllReduce{T}"/>) pays one per worker.
/// </summary>
/// <remarks>
/// A worker with no rows in a round sends empty parts (its gradients count as zeros). The messages
/// go through the same mailboxes as the ring (<see cref="IRingNetwork{T}"/>): in phase 0 keyed by
/// the sending worker, in phase 1 by the chunk; a retried delivery is ignored. Workers must run the
/// same rounds with tensors of the same sizes.
/// <para>
/// With a referee and a round deadline (<see cref="IRoundReferee"/>), a worker that dies stops
/// nobody for longer than the deadline and the referee's wait: the survivors report the round
/// unfinished and redo it among themselves from their own gradients, the dead worker dropped for the
/// rest of the run; the chunks are then cut among the members that remain, in id order, so the sum
/// is still the one-grain all-reduce's over those members. Attempt a's messages use phases 2a and 2a + 1.
/// </para>
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
public sealed class ScatterAllReduce<T> : PeerAllReduce<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>An all-reduce among <paramref name="workerCount"/> workers over <paramref name="network"/> (shared by all of them, or one per process reaching the same mailboxes).</summary>
    public ScatterAllReduce(IRingNetwork<T> network, int workerCount)
        : this(network, workerCount, null, TimeSpan.Zero)
    {
    }

    /// <summary>
    /// An all-reduce among <paramref name="workerCount"/> workers with a round deadline: each
    /// exchange gets <paramref name="roundDeadline"/>, then every worker reports to
    /// <paramref name="referee"/> whether it has the sum, and all apply it or redo the round among
    /// the workers that reported (see <see cref="RoundRefereeCore"/>). Every worker of a run passes
    /// the same deadline; give the referee at least twice it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The deadline is not positive.</exception>
    public ScatterAllReduce(IRingNetwork<T> network, int workerCount, IRoundReferee? referee, TimeSpan roundDeadline)
        : base(network, workerCount, referee, roundDeadline)
    {
    }

    /// <summary>One attempt among <paramref name="members"/> (in id order): the member at position c owns chunk c.</summary>
    private protected override async ValueTask<int> ExchangeAsync(MessageStamp stamp, int rows, IReadOnlyList<Memory<T>> gradients, IReadOnlyList<int> members, int attempt,
        CancellationToken cancellationToken)
    {
        long total = gradients.Sum(g => (long)g.Length);
        int worker = stamp.Worker, n = members.Count, p = PositionOf(members, worker);
        int scattering = 2 * attempt, gathering = 2 * attempt + 1;
        var (ownStart, ownLength) = FlatChunks.Chunk(total, n, p);
        long sent = 0, received = 0;

        // Reduce-scatter: every other owner gets this worker's part of its chunk (none when this worker has no rows) ...
        var sends = new List<Task>(n);
        for (int c = 0; c < n; c++)
        {
            if (c == p)
                continue;
            var (start, length) = FlatChunks.Chunk(total, n, c);
            var part = rows > 0 ? new T[length] : [];
            if (rows > 0)
                FlatChunks.AddFlat(gradients, start, part);
            sends.Add(Network.SendAsync(members[c], new RingKey(stamp.Sequence, scattering, worker), rows, part, cancellationToken).AsTask());
            sent += part.Length;
        }
        // ... and this worker adds the parts of its own chunk in worker-id order, from zeros.
        var sum = new T[ownLength];
        int totalRows = 0;
        for (int w = 0; w < n; w++)
        {
            if (w == p)
            {
                if (rows > 0)
                    FlatChunks.AddFlat(gradients, ownStart, sum);
                totalRows += rows;
                continue;
            }
            var (partRows, values) = await Network.ReceiveAsync(worker, new RingKey(stamp.Sequence, scattering, members[w]), cancellationToken).ConfigureAwait(false);
            received += values.Length;
            if (values.Length != 0 && values.Length != ownLength)
                throw new InvalidOperationException($"Worker {members[w]}'s part of chunk {p} in round {stamp.Sequence} has {values.Length} values, not {ownLength}: the workers' tensors differ.");
            if (values.Length != 0)
                Add(sum, values);
            totalRows += partRows;
        }
        await Task.WhenAll(sends).WaitAsync(cancellationToken).ConfigureAwait(false);

        // All-gather: the finished chunk to every other member, theirs into this worker's gradients.
        sends.Clear();
        for (int c = 0; c < n; c++)
        {
            if (c != p)
            {
                sends.Add(Network.SendAsync(members[c], new RingKey(stamp.Sequence, gathering, worker), totalRows, sum, cancellationToken).AsTask());
                sent += sum.Length;
            }
        }
        FlatChunks.CopyFlat(sum, gradients, ownStart);
        for (int c = 0; c < n; c++)
        {
            if (c == p)
                continue;
            var (start, length) = FlatChunks.Chunk(total, n, c);
            var (chunkRows, values) = await Network.ReceiveAsync(worker, new RingKey(stamp.Sequence, gathering, members[c]), cancellationToken).ConfigureAwait(false);
            received += values.Length;
            if (values.Length != length || chunkRows != totalRows)
                throw new InvalidOperationException($"Chunk {c} of round {stamp.Sequence} arrived with {values.Length} values and {chunkRows} rows, not {length} and {totalRows}: the workers disagree.");
            FlatChunks.CopyFlat(values, gradients, start);
        }
        await Task.WhenAll(sends).WaitAsync(cancellationToken).ConfigureAwait(false);
        Moved(worker, sent, received);
        return totalRows;
    }

    private static void Add(T[] sum, T[] part) => TensorPrimitives.Add(sum, part, sum);
}
