namespace NeuralBasics.Training.Distributed;

/// <summary>
/// What a round referee (<see cref="IRoundReferee"/>) does with its reports, free of any transport
/// and not thread-safe (the caller serializes calls).
/// </summary>
/// <remarks>
/// The rule: an attempt at a round is decided when every current member has reported, or when its
/// host calls <see cref="Expire"/> (at the attempt's deadline after the first report) once every
/// worker has reported at least once — before that, a slow start is never taken for a death. The
/// decision is a commit when every worker that reported got the sum, else another attempt among the
/// workers that reported. Members that did not report by the decision are dropped for the rest of
/// the run and their later reports refused, so no worker applies a round the others did not, and
/// no contribution is counted twice: a redone round starts again from each worker's own gradients.
/// </remarks>
public sealed class RoundRefereeCore
{
    /// <summary>How many decided attempts are kept to answer repeated reports.</summary>
    public const int DecisionsKept = 8;

    private readonly SortedSet<int> _members;
    private readonly Dictionary<int, (long Round, int Attempt)> _dropped = [];
    private readonly HashSet<int> _joined = [];
    private readonly Dictionary<(long Round, int Attempt), Attempt> _open = [];
    private readonly Dictionary<(long Round, int Attempt), Task<RoundDecision>> _decided = [];
    private readonly Queue<(long Round, int Attempt)> _decidedOrder = new();

    /// <summary>A referee for <paramref name="workerCount"/> workers, ids 0 to <paramref name="workerCount"/> − 1.</summary>
    public RoundRefereeCore(int workerCount)
    {
        WorkerCount = Guard.AtLeast(workerCount, 1, "The number of workers", nameof(workerCount));
        _members = [.. Enumerable.Range(0, workerCount)];
    }

    /// <summary>How many workers the run started with.</summary>
    public int WorkerCount { get; }

    /// <summary>The workers still taking part, in id order.</summary>
    public IReadOnlyCollection<int> Members => _members;

    /// <summary>The dropped workers, and the round and attempt each went silent in.</summary>
    public IReadOnlyDictionary<int, (long Round, int Attempt)> Dropped => _dropped;

    /// <summary>
    /// Records a report; the task completes with the attempt's decision. <paramref name="opened"/>
    /// says whether this report opened the attempt and it still waits for others: the moment a host
    /// starts the attempt's deadline.
    /// </summary>
    /// <exception cref="ArgumentException">The worker id is out of range, or the attempt is negative.</exception>
    /// <exception cref="InvalidOperationException">The worker was dropped, or the attempt was decided so long ago it is forgotten.</exception>
    public Task<RoundDecision> Report(MessageStamp stamp, int attempt, bool completed, out bool opened)
    {
        opened = false;
        if (stamp.Worker >= WorkerCount)
            throw new ArgumentException($"Worker {stamp.Worker} is not one of the {WorkerCount} workers of this run.", nameof(stamp));
        ArgumentOutOfRangeException.ThrowIfNegative(attempt);
        if (_dropped.TryGetValue(stamp.Worker, out var missed))
            throw new InvalidOperationException(
                $"Worker {stamp.Worker} was dropped from the all-reduce when attempt {missed.Attempt} at round {missed.Round} was decided without its report; the other workers went on without it.");
        var key = (stamp.Sequence, attempt);
        if (_decided.TryGetValue(key, out var decided))
            return decided;
        // Older than every decision kept: it was decided and forgotten, and must not open again (its
        // deadline would then decide it with this report alone and drop everyone else).
        if (_decidedOrder.Count == DecisionsKept && _decidedOrder.All(d => key.CompareTo(d) < 0))
            throw new InvalidOperationException($"Attempt {attempt} at round {stamp.Sequence} was decided too long ago to be answered again.");
        _joined.Add(stamp.Worker);
        bool created = !_open.TryGetValue(key, out var open);
        if (created)
            _open[key] = open = new Attempt();
        open!.Reports.TryAdd(stamp.Worker, completed);
        if (_members.All(open.Reports.ContainsKey))
            Decide(key, open);
        opened = created && _open.ContainsKey(key);
        return open.Decision.Task;
    }

    /// <summary>
    /// The deadline of round <paramref name="round"/>'s attempt <paramref name="attempt"/> has passed:
    /// if it is still open and every worker has reported once, it is decided with the reports it has
    /// (the silent members dropped). Returns the workers dropped.
    /// </summary>
    public IReadOnlyList<int> Expire(long round, int attempt)
    {
        var key = (round, attempt);
        if (!_open.TryGetValue(key, out var open) || _joined.Count < WorkerCount)
            return [];
        int[] silent = [.. _members.Where(m => !open.Reports.ContainsKey(m))];
        foreach (int worker in silent)
        {
            _members.Remove(worker);
            _dropped[worker] = key;
        }
        Decide(key, open);
        return silent;
    }

    private void Decide((long Round, int Attempt) key, Attempt open)
    {
        // Reports from workers dropped meanwhile (at another attempt) do not count.
        var reports = open.Reports.Where(r => _members.Contains(r.Key)).ToList();
        bool commit = reports.All(r => r.Value);
        var decision = new RoundDecision(commit, [.. _members]);
        _open.Remove(key);
        _decided[key] = open.Decision.Task;
        _decidedOrder.Enqueue(key);
        while (_decidedOrder.Count > DecisionsKept)
            _decided.Remove(_decidedOrder.Dequeue());
        open.Decision.SetResult(decision);
    }

    private sealed class Attempt
    {
        public readonly Dictionary<int, bool> Reports = [];
        public readonly TaskCompletionSource<RoundDecision> Decision = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
