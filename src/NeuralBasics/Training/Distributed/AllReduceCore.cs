using System.Numerics;
using System.Numerics.Tensors;

namespace NeuralBasics.Training.Distributed;

/// <summary>
/// What a synchronous all-reduce does with its messages, free of any transport and not thread-safe
/// (the caller serializes calls): it collects one contribution per worker for each round and, when
/// the last one arrives, adds them in worker-id order (<c>((g₀ + g₁) + g₂) + …</c>), so every
/// worker gets the same bits whatever order they arrived in.
/// </summary>
/// <remarks>
/// Contributions are copied, so a caller's buffers are free again as soon as it returns. A repeated
/// contribution to a round is counted once; a repeat after the round completed gets its result
/// (the last <see cref="CompletedRoundsKept"/> rounds are kept for that).
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
public sealed class AllReduceCore<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>How many completed rounds are kept to answer repeated contributions.</summary>
    public const int CompletedRoundsKept = 4;

    private readonly Dictionary<long, Round> _open = [];
    private readonly Dictionary<long, Task<AllReduceResult<T>>> _completed = [];
    private readonly Queue<long> _completedOrder = new();
    private int[]? _lengths;

    /// <summary>An all-reduce among <paramref name="workerCount"/> workers, with ids 0 to <paramref name="workerCount"/> − 1.</summary>
    public AllReduceCore(int workerCount) => WorkerCount = Guard.AtLeast(workerCount, 1, "The number of workers", nameof(workerCount));

    /// <summary>How many workers contribute to every round.</summary>
    public int WorkerCount { get; }

    /// <summary>Rounds completed so far.</summary>
    public long CompletedRounds { get; private set; }

    /// <summary>
    /// Adds a contribution to round <see cref="MessageStamp.Sequence"/>; the task completes with the
    /// round's sum when every worker has contributed. A worker with no rows passes 0 and any buffers
    /// (they count as zeros).
    /// </summary>
    /// <exception cref="ArgumentException">The worker id is out of range, the rows are negative, the buffers do not match earlier rounds' or are not finite, or the round is long finished.</exception>
    public Task<AllReduceResult<T>> Contribute(MessageStamp stamp, int rows, IReadOnlyList<ReadOnlyMemory<T>> gradients)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        if (stamp.Worker >= WorkerCount)
            throw new ArgumentException($"Worker {stamp.Worker} is not one of the {WorkerCount} workers of this all-reduce.", nameof(stamp));
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (_completed.TryGetValue(stamp.Sequence, out var done))
            return done;
        if (stamp.Sequence <= CompletedRounds && !_open.ContainsKey(stamp.Sequence))
            throw new ArgumentException($"Round {stamp.Sequence} finished long ago; {stamp} cannot join it.", nameof(stamp));
        _lengths ??= [.. gradients.Select(g => g.Length)];
        if (gradients.Count != _lengths.Length || gradients.Where((g, k) => g.Length != _lengths[k]).Any())
            throw new ArgumentException($"The contribution from {stamp} does not have the tensors of the other contributions ({string.Join(", ", _lengths)} values).", nameof(gradients));
        if (rows > 0)
            for (int k = 0; k < gradients.Count; k++)
                if (!TensorPrimitives.IsFiniteAll(gradients[k].Span))
                    throw new ArgumentException($"The contribution from {stamp} holds a non-finite gradient in tensor {k}.", nameof(gradients));

        if (!_open.TryGetValue(stamp.Sequence, out var round))
            _open[stamp.Sequence] = round = new Round(WorkerCount);
        if (round.Gradients[stamp.Worker] is null)
        {
            round.Gradients[stamp.Worker] = rows > 0 ? [.. gradients.Select(g => g.ToArray())] : [];
            round.Rows[stamp.Worker] = rows;
            if (++round.Arrived == WorkerCount)
                Complete(stamp.Sequence, round);
        }
        return round.Done.Task;
    }

    private void Complete(long sequence, Round round)
    {
        var sum = _lengths!.Select(length => new T[length]).ToArray();
        int rows = 0;
        for (int w = 0; w < WorkerCount; w++)
        {
            rows += round.Rows[w];
            if (round.Rows[w] == 0)
                continue;
            for (int k = 0; k < sum.Length; k++)
                TensorPrimitives.Add(sum[k], round.Gradients[w]![k], sum[k]);
        }
        _open.Remove(sequence);
        _completed[sequence] = round.Done.Task;
        _completedOrder.Enqueue(sequence);
        while (_completedOrder.Count > CompletedRoundsKept)
            _completed.Remove(_completedOrder.Dequeue());
        CompletedRounds = Math.Max(CompletedRounds, sequence);
        round.Done.SetResult(new AllReduceResult<T>(sum, rows));
    }

    private sealed class Round(int workers)
    {
        public readonly T[][]?[] Gradients = new T[][]?[workers];
        public readonly int[] Rows = new int[workers];
        public int Arrived;
        public readonly TaskCompletionSource<AllReduceResult<T>> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
