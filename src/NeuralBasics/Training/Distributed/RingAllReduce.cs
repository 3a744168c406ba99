using System.Numerics;
using System.Runtime.CompilerServices;

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
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
public sealed class RingAllReduce<T> : IGradientAllReduce<T>, IExchangeMeter
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IRingNetwork<T> _network;
    private readonly ExchangeByteCounter _bytes = new();

    /// <summary>An all-reduce among <paramref name="workerCount"/> workers over <paramref name="network"/> (shared by all of them, or one per process reaching the same mailboxes).</summary>
    public RingAllReduce(IRingNetwork<T> network, int workerCount)
    {
        ArgumentNullException.ThrowIfNull(network);
        _network = network;
        WorkerCount = Guard.AtLeast(workerCount, 1, "The number of workers", nameof(workerCount));
    }

    /// <inheritdoc/>
    public int WorkerCount { get; }

    /// <summary>The bytes of the values each worker has put in and taken out of the mailboxes.</summary>
    public (long Sent, long Received) BytesOf(int worker) => _bytes.BytesOf(worker);

    /// <inheritdoc/>
    public async ValueTask<int> AllReduceAsync(MessageStamp stamp, int rows, IReadOnlyList<Memory<T>> gradients, CancellationToken cancellationToken = default)
    {
        long total = FlatChunks.CheckContribution(stamp, rows, gradients, WorkerCount);
        int worker = stamp.Worker, n = WorkerCount;
        int totalRows = 0;
        long sent = 0, received = 0;
        // Reduce: chunk c's partial sum arrives from worker − 1 (worker 0 starts from zeros), gets this worker's part, and goes on.
        var finished = worker == n - 1 ? new T[n][] : null;
        for (int c = 0; c < n; c++)
        {
            var (start, length) = FlatChunks.Chunk(total, n, c);
            T[] partial;
            int partialRows;
            if (worker == 0)
                (partialRows, partial) = (0, new T[length]);
            else
            {
                (partialRows, partial) = await _network.ReceiveAsync(worker, new RingKey(stamp.Sequence, 0, c), cancellationToken).ConfigureAwait(false);
                received += partial.Length;
            }
            if (partial.Length != length)
                throw new InvalidOperationException($"Chunk {c} of round {stamp.Sequence} arrived with {partial.Length} values, not {length}: the workers' tensors differ.");
            if (rows > 0)
                FlatChunks.AddFlat(gradients, start, partial);
            if (c == 0)
                partialRows += rows;
            if (worker < n - 1)
            {
                await _network.SendAsync(worker + 1, new RingKey(stamp.Sequence, 0, c), c == 0 ? partialRows : 0, partial, cancellationToken).ConfigureAwait(false);
                sent += partial.Length;
            }
            else
                finished![c] = partial;
            if (c == 0 && worker == n - 1)
                totalRows = partialRows;
        }
        // Gather: the last worker sends every finished chunk to worker 0, which passes it to 1, and so on to n − 2.
        for (int c = 0; c < n; c++)
        {
            var (start, _) = FlatChunks.Chunk(total, n, c);
            T[] sum;
            if (worker == n - 1)
            {
                sum = finished![c];
            }
            else
            {
                var (chunkRows, values) = await _network.ReceiveAsync(worker, new RingKey(stamp.Sequence, 1, c), cancellationToken).ConfigureAwait(false);
                sum = values;
                received += values.Length;
                if (c == 0)
                    totalRows = chunkRows;
            }
            if (n > 1 && worker != n - 2)
            {
                await _network.SendAsync((worker + 1) % n, new RingKey(stamp.Sequence, 1, c), c == 0 ? totalRows : 0, sum, cancellationToken).ConfigureAwait(false);
                sent += sum.Length;
            }
            FlatChunks.CopyFlat(sum, gradients, start);
        }
        _bytes.Add(worker, sent * Unsafe.SizeOf<T>(), received * Unsafe.SizeOf<T>());
        return totalRows;
    }
}
