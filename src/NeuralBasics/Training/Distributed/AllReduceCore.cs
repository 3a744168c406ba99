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
/// <para>
/// Membership: a round waits for every current member. Until every worker has joined (made its first
/// contribution) rounds simply wait, so a slow start is never taken for a death. From then on, when
/// its host calls <see cref="Expire"/> (at the round's deadline), the members that have not
/// contributed are dropped for the rest of the run and the round completes with those that have;
/// later rounds wait only for the remaining members.
/// A dropped worker's contributions are refused from then on (to the expired round too), so none is
/// ever added twice or late; a replacement joins a new run.
/// </para>
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
    private readonly SortedSet<int> _members;
    private readonly Dictionary<int, long> _dropped = [];
    private readonly HashSet<int> _joined = [];

    /// <summary>An all-reduce among <paramref name="workerCount"/> workers, with ids 0 to <paramref name="workerCount"/> − 1.</summary>
    public AllReduceCore(int workerCount)
    {
        WorkerCount = Guard.AtLeast(workerCount, 1, "The number of workers", nameof(workerCount));
        _members = [.. Enumerable.Range(0, workerCount)];
    }

    /// <summary>The workers a round waits for: all of them, less those dropped at a deadline.</summary>
    public IReadOnlyCollection<int> Members => _members;

    /// <summary>The dropped workers and the round each missed.</summary>
    public IReadOnlyDictionary<int, long> Dropped => _dropped;

    /// <summary>Whether round <paramref name="sequence"/> has a contribution and is still waiting for others.</summary>
    public bool IsOpen(long sequence) => _open.ContainsKey(sequence);

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
    public Task<AllReduceResult<T>> Contribute(MessageStamp stamp, int rows, IReadOnlyList<ReadOnlyMemory<T>> gradients) =>
        Contribute(stamp, rows, gradients, out _);

    /// <summary>
    /// Adds a contribution as <see cref="Contribute(MessageStamp, int, IReadOnlyList{ReadOnlyMemory{T}})"/> does;
    /// <paramref name="opened"/> says whether it opened its round and the round still waits for others:
    /// the moment a host starts the round's deadline.
    /// </summary>
    /// <exception cref="ArgumentException">As the other overload.</exception>
    public Task<AllReduceResult<T>> Contribute(MessageStamp stamp, int rows, IReadOnlyList<ReadOnlyMemory<T>> gradients, out bool opened)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        opened = false;
        if (stamp.Worker >= WorkerCount)
            throw new ArgumentException($"Worker {stamp.Worker} is not one of the {WorkerCount} workers of this all-reduce.", nameof(stamp));
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (_dropped.TryGetValue(stamp.Worker, out long missed))
            throw new InvalidOperationException(
                $"Worker {stamp.Worker} was dropped from the all-reduce when round {missed} passed its deadline without it; the other workers went on without it.");
        if (_completed.TryGetValue(stamp.Sequence, out var done))
            return done;
        if (stamp.Sequence <= CompletedRounds && !_open.ContainsKey(stamp.Sequence))
            throw new ArgumentException($"Round {stamp.Sequence} finished long ago; {stamp} cannot join it.", nameof(stamp));
        _lengths ??= [.. gradients.Select(g => g.Length)];
        if (gradients.Count != _lengths.Length || gradients.Where((g, k) => g.Length != _lengths[k]).Any())
            throw new ArgumentException($"The contribution from {stamp} does not have the tensors of the other contributions ({string.Join(", ", _lengths)} values).", nameof(gradients));
        if (rows > 0)
            RequireFinite(stamp, gradients);

        _joined.Add(stamp.Worker);
        bool created = !_open.TryGetValue(stamp.Sequence, out var round);
        if (created)
            _open[stamp.Sequence] = round = new Round(WorkerCount);
        if (round!.Gradients[stamp.Worker] is null)
        {
            round.Gradients[stamp.Worker] = rows > 0 ? [.. gradients.Select(g => g.ToArray())] : [];
            round.Rows[stamp.Worker] = rows;
            if (_members.All(m => round.Gradients[m] is not null))
                Complete(stamp.Sequence, round);
        }
        opened = created && _open.ContainsKey(stamp.Sequence);
        return round.Done.Task;
    }

    /// <summary>Refuses a contribution holding a NaN or infinity, naming its sender and tensor (any all-reduce, central or ring).</summary>
    /// <exception cref="ArgumentException">A value is not finite.</exception>
    internal static void RequireFinite(MessageStamp stamp, IReadOnlyList<ReadOnlyMemory<T>> gradients)
    {
        for (int k = 0; k < gradients.Count; k++)
            if (!TensorPrimitives.IsFiniteAll(gradients[k].Span))
                throw new ArgumentException($"The contribution from {stamp} holds a non-finite gradient in tensor {k}.", nameof(gradients));
    }

    /// <summary>
    /// Round <paramref name="sequence"/>'s deadline has passed: if it is still open and every worker
    /// has joined the run, the members that have not contributed are dropped and it completes with
    /// those that have (and so does any later round that was waiting only for them). Returns the
    /// workers dropped.
    /// </summary>
    public IReadOnlyList<int> Expire(long sequence)
    {
        if (!_open.TryGetValue(sequence, out var round) || _joined.Count < WorkerCount)
            return [];
        int[] missing = [.. _members.Where(m => round.Gradients[m] is null)];
        foreach (int worker in missing)
        {
            _members.Remove(worker);
            _dropped[worker] = sequence;
        }
        foreach (var (later, waiting) in _open.OrderBy(p => p.Key).ToList())
            if (_members.All(m => waiting.Gradients[m] is not null))
                Complete(later, waiting);
        return missing;
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
        int[] contributors = [.. Enumerable.Range(0, WorkerCount).Where(w => round.Gradients[w] is not null)];
        round.Done.SetResult(new AllReduceResult<T>(sum, rows, contributors));
    }

    private sealed class Round(int workers)
    {
        public readonly T[][]?[] Gradients = new T[][]?[workers];
        public readonly int[] Rows = new int[workers];
        public readonly TaskCompletionSource<AllReduceResult<T>> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
