using System.Numerics;

namespace NeuralBasics.Training.Distributed;

/// <summary>
/// A synchronous all-reduce among the workers themselves, with no shared state to funnel through:
/// the flattened gradients are cut into as many chunks as workers; each chunk's sum travels along
/// the workers in id order (worker 0 starts it, each adds its own part and passes it on, all chunks
/// in flight at once), and the last worker passes the finished chunks round the ring to the
/// others. Every chunk is summed in worker-id order, as <see cref="AllReduceCore{T}"/> sums, so the
/// result is bit for bit the one-grain all-reduce's on every worker; each link carries about twice
/// the gradients per round, whatever the worker count (the one grain's link carries N times in
/// and N times out).
/// </summary>
/// <remarks>
/// A worker with no rows in a round sends its partial sums on unchanged (its gradients count as
/// zeros). The messages are keyed by round, phase and chunk, so a retried delivery is ignored.
/// Workers must run the same rounds with tensors of the same sizes.
/// <para>
/// With a referee and a round deadline (<see cref="IRoundReferee"/>), a worker that dies stops
/// nobody for longer than the deadline and the referee's wait: the survivors report the round
/// unfinished and redo it among themselves from their own gradients, the dead worker dropped for the
/// rest of the run; the chunks are then cut among the members that remain, in id order, so the sum
/// is still the one-grain all-reduce's over those members. Attempt a's messages use phases 2a and 2a + 1.
/// </para>
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
public sealed class RingAllReduce<T> : PeerAllReduce<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>An all-reduce among <paramref name="workerCount"/> workers over <paramref name="network"/> (shared by all of them, or one per process reaching the same mailboxes).</summary>
    public RingAllReduce(IRingNetwork<T> network, int workerCount)
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
    public RingAllReduce(IRingNetwork<T> network, int workerCount, IRoundReferee? referee, TimeSpan roundDeadline)
        : base(network, workerCount, referee, roundDeadline)
    {
    }

    /// <summary>One attempt among <paramref name="members"/> (in id order), the positions in that list taking the workers' places.</summary>
    private protected override async ValueTask<int> ExchangeAsync(MessageStamp stamp, int rows, IReadOnlyList<Memory<T>> gradients, IReadOnlyList<int> members, int attempt,
        CancellationToken cancellationToken)
    {
        long total = gradients.Sum(g => (long)g.Length);
        int worker = stamp.Worker, n = members.Count, p = PositionOf(members, worker);
        int reducing = 2 * attempt, gathering = 2 * attempt + 1;
        int totalRows = 0;
        long sent = 0, received = 0;
        // Reduce: chunk c's partial sum arrives from the member before (the first starts from zeros), gets this worker's part, and goes on.
        var finished = p == n - 1 ? new T[n][] : null;
        for (int c = 0; c < n; c++)
        {
            var (start, length) = FlatChunks.Chunk(total, n, c);
            T[] partial;
            int partialRows;
            if (p == 0)
                (partialRows, partial) = (0, new T[length]);
            else
            {
                (partialRows, partial) = await Network.ReceiveAsync(worker, new RingKey(stamp.Sequence, reducing, c), cancellationToken).ConfigureAwait(false);
                received += partial.Length;
            }
            if (partial.Length != length)
                throw new InvalidOperationException($"Chunk {c} of round {stamp.Sequence} arrived with {partial.Length} values, not {length}: the workers' tensors differ.");
            if (rows > 0)
                FlatChunks.AddFlat(gradients, start, partial);
            if (c == 0)
                partialRows += rows;
            if (p < n - 1)
            {
                await Network.SendAsync(members[p + 1], new RingKey(stamp.Sequence, reducing, c), c == 0 ? partialRows : 0, partial, cancellationToken).ConfigureAwait(false);
                sent += partial.Length;
            }
            else
                finished![c] = partial;
            if (c == 0 && p == n - 1)
                totalRows = partialRows;
        }
        // Gather: the last member sends every finished chunk to the first, which passes it to the second, and so on to the one before last.
        for (int c = 0; c < n; c++)
        {
            var (start, _) = FlatChunks.Chunk(total, n, c);
            T[] sum;
            if (p == n - 1)
            {
                sum = finished![c];
            }
            else
            {
                var (chunkRows, values) = await Network.ReceiveAsync(worker, new RingKey(stamp.Sequence, gathering, c), cancellationToken).ConfigureAwait(false);
                sum = values;
                received += values.Length;
                if (c == 0)
                    totalRows = chunkRows;
            }
            if (n > 1 && p != n - 2)
            {
                await Network.SendAsync(members[(p + 1) % n], new RingKey(stamp.Sequence, gathering, c), c == 0 ? totalRows : 0, sum, cancellationToken).ConfigureAwait(false);
                sent += sum.Length;
            }
            FlatChunks.CopyFlat(sum, gradients, start);
        }
        Moved(worker, sent, received);
        return totalRows;
    }
}
