using System.Numerics;
using System.Numerics.Tensors;
using NeuralBasics.Optimizers;

namespace NeuralBasics.Training.Distributed;

/// <summary>
/// What a Downpour parameter server does with its messages, free of any transport and not
/// thread-safe (the caller serializes calls: a lock in <see cref="InProcessParameterServer{T}"/>,
/// the grain's turn in NeuralBasics.Orleans). It keeps the parameters, one update-rule state per
/// tensor and a version (the updates applied), and per worker the next push it expects.
/// </summary>
/// <remarks>
/// <para>
/// A push is applied when it is the worker's next; a push from further ahead is held (up to
/// <see cref="MaxQueuedPerWorker"/>) until the ones before it arrive, then applied in order; a push
/// already received is a duplicate and changes nothing. So retries and reordering on the way leave
/// the result as if every message had arrived once, in order. A push with a larger
/// <see cref="MessageStamp.Incarnation"/> than the worker's so far starts a new stream (the worker
/// was restarted; what the old one held out of order is dropped); one with a smaller incarnation is
/// <see cref="ExchangeStatus.Superseded"/>.
/// </para>
/// <para>
/// After <see cref="Restore"/> (a server that lost its latest updates), pushes the stored state
/// had not seen yet will never arrive again, so each worker's first push is accepted whatever its
/// sequence number, and the worker's order is followed from there.
/// </para>
/// <para>
/// Every push is checked whole before anything changes: one gradient per tensor, of the tensor's
/// length, all finite. A push that fails the check throws <see cref="ArgumentException"/>.
/// </para>
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
public sealed class ParameterServerCore<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The most pushes held per worker while an earlier one is missing.</summary>
    public const int MaxQueuedPerWorker = 64;

    private readonly T[][] _parameters;
    private readonly T[][] _scaled;
    private readonly UpdateState[] _states;
    private readonly Dictionary<int, WorkerStream> _workers = [];
    private bool _restored;

    /// <summary>Starts at <paramref name="initial"/> (copied), updating with <paramref name="rule"/>.</summary>
    /// <param name="initial">The parameter tensors.</param>
    /// <param name="rule">The update rule the server applies to each push.</param>
    /// <param name="staleness">The staleness bound; null accepts any staleness.</param>
    public ParameterServerCore(IEnumerable<ReadOnlyMemory<T>> initial, UpdateRule rule, StalenessBound? staleness = null)
    {
        ArgumentNullException.ThrowIfNull(initial);
        ArgumentNullException.ThrowIfNull(rule);
        _parameters = [.. initial.Select(m => m.ToArray())];
        if (_parameters.Length == 0)
            throw new ArgumentException("A parameter server needs at least one tensor.", nameof(initial));
        _scaled = [.. _parameters.Select(p => new T[p.Length])];
        Parameters = [.. _parameters.Select(p => (ReadOnlyMemory<T>)p)];
        Rule = rule;
        Staleness = staleness;
        _states = [.. _parameters.Select(p => rule.CreateState<T>(p.Length))];
    }

    /// <summary>The update rule.</summary>
    public UpdateRule Rule { get; }

    /// <summary>The staleness bound, or null for none.</summary>
    public StalenessBound? Staleness { get; }

    /// <summary>The parameters' version: the updates applied so far.</summary>
    public long Version { get; private set; }

    /// <summary>The parameter tensors, read-only and live: what the next <see cref="Fetch"/> would copy.</summary>
    public IReadOnlyList<ReadOnlyMemory<T>> Parameters { get; }

    /// <summary>Pushes rejected as too stale so far.</summary>
    public long RejectedPushes { get; private set; }

    /// <summary>Pushes received more than once so far (counted at each repeat).</summary>
    public long DuplicatePushes { get; private set; }

    /// <summary>Copies the parameters into <paramref name="destination"/> and returns their version.</summary>
    /// <exception cref="ArgumentException">The buffers do not match the tensors.</exception>
    public long Fetch(IReadOnlyList<Memory<T>> destination)
    {
        CheckShapes(destination.Select(d => d.Length).ToList(), nameof(destination));
        for (int k = 0; k < _parameters.Length; k++)
            _parameters[k].CopyTo(destination[k].Span);
        return Version;
    }

    /// <summary>Handles one push (see the remarks on the class).</summary>
    /// <exception cref="ArgumentException">The gradients do not match the tensors or are not finite, or the worker is more than <see cref="MaxQueuedPerWorker"/> pushes ahead.</exception>
    public ExchangeReply Push(MessageStamp stamp, long baseVersion, IReadOnlyList<ReadOnlyMemory<T>> gradients)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        CheckShapes(gradients.Select(g => g.Length).ToList(), nameof(gradients));
        for (int k = 0; k < gradients.Count; k++)
            if (!TensorPrimitives.IsFiniteAll(gradients[k].Span))
                throw new ArgumentException($"The push from {stamp} holds a non-finite gradient in tensor {k}.", nameof(gradients));

        if (!_workers.TryGetValue(stamp.Worker, out var stream) || stamp.Incarnation > stream.Incarnation)
            _workers[stamp.Worker] = stream = new WorkerStream { Next = _restored ? stamp.Sequence : 1, Incarnation = stamp.Incarnation };
        else if (stamp.Incarnation < stream.Incarnation)
            return new ExchangeReply(ExchangeStatus.Superseded, Version);
        else if (stream.Resync && stamp.Sequence >= stream.Next)
            stream.Next = stamp.Sequence;
        if (stamp.Sequence < stream.Next || stream.Queued.ContainsKey(stamp.Sequence))
        {
            DuplicatePushes++;
            return new ExchangeReply(ExchangeStatus.Duplicate, Version);
        }
        if (stamp.Sequence > stream.Next)
        {
            if (stream.Queued.Count >= MaxQueuedPerWorker)
                throw new ArgumentException(
                    $"The push from {stamp} is more than {MaxQueuedPerWorker} ahead of the next expected ({stream.Next}).", nameof(stamp));
            stream.Queued.Add(stamp.Sequence, (baseVersion, [.. gradients.Select(g => g.ToArray())]));
            return new ExchangeReply(ExchangeStatus.Queued, Version);
        }

        stream.Resync = false;
        var reply = Apply(baseVersion, gradients);
        stream.Next++;
        while (stream.Queued.Remove(stream.Next, out var queued))
        {
            Apply(queued.BaseVersion, [.. queued.Gradients.Select(g => (ReadOnlyMemory<T>)g)]);
            stream.Next++;
        }
        return reply with { Version = Version };
    }

    /// <summary>Copies the whole state out (see <see cref="ParameterServerSnapshot{T}"/>); pushes held out of order are not part of it.</summary>
    public ParameterServerSnapshot<T> Snapshot() => new(
        Version,
        [.. _parameters.Select(p => p.ToArray())],
        [.. _states.Select(s => s.Step)],
        [.. _states.Select(s => s.Buffers.Select(b => ((T[])b.Value).ToArray()).ToArray())],
        _workers.ToDictionary(w => w.Key, w => w.Value.Next),
        _workers.Where(w => w.Value.Incarnation != 0).ToDictionary(w => w.Key, w => w.Value.Incarnation));

    /// <summary>
    /// Rebuilds a server from a <paramref name="snapshot"/>, with <paramref name="rule"/> (whose state
    /// arrays the snapshot must match). Each worker's first push afterwards is accepted whatever its
    /// sequence number (the pushes between the snapshot and the failure are gone).
    /// </summary>
    /// <exception cref="ArgumentException">The snapshot does not fit the rule, or its tensors disagree in count or length.</exception>
    public static ParameterServerCore<T> Restore(ParameterServerSnapshot<T> snapshot, UpdateRule rule, StalenessBound? staleness = null)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var server = new ParameterServerCore<T>(snapshot.Parameters.Select(p => (ReadOnlyMemory<T>)p), rule, staleness);
        if (snapshot.Steps.Length != server._states.Length || snapshot.StateBuffers.Length != server._states.Length)
            throw new ArgumentException("The snapshot's update-rule state does not have one entry per tensor.", nameof(snapshot));
        for (int k = 0; k < server._states.Length; k++)
        {
            var buffers = server._states[k].Buffers;
            if (snapshot.StateBuffers[k].Length != buffers.Count)
                throw new ArgumentException($"Tensor {k}'s update-rule state has {snapshot.StateBuffers[k].Length} arrays in the snapshot but {rule} keeps {buffers.Count}.", nameof(snapshot));
            for (int b = 0; b < buffers.Count; b++)
            {
                var target = (T[])buffers[b].Value;
                if (snapshot.StateBuffers[k][b].Length != target.Length)
                    throw new ArgumentException($"Tensor {k}'s state array {buffers[b].Key} has the wrong length in the snapshot.", nameof(snapshot));
                snapshot.StateBuffers[k][b].CopyTo(target, 0);
            }
            server._states[k].Step = snapshot.Steps[k];
        }
        server.Version = snapshot.Version;
        foreach (var (worker, next) in snapshot.NextSequence)
            server._workers[worker] = new WorkerStream { Next = next, Resync = true, Incarnation = snapshot.Incarnations?.GetValueOrDefault(worker) ?? 0 };
        server._restored = true;
        return server;
    }

    private ExchangeReply Apply(long baseVersion, IReadOnlyList<ReadOnlyMemory<T>> gradients)
    {
        long staleness = Math.Max(0, Version - baseVersion);
        double factor = Staleness?.Factor(staleness) ?? 1;
        if (factor == 0)
        {
            RejectedPushes++;
            return new ExchangeReply(ExchangeStatus.RejectedStale, Version, staleness);
        }
        for (int k = 0; k < _parameters.Length; k++)
        {
            var gradient = gradients[k].Span;
            if (factor != 1)
            {
                TensorPrimitives.Multiply(gradient, T.CreateChecked(factor), _scaled[k]);
                gradient = _scaled[k];
            }
            Rule.Apply<T>(_parameters[k], gradient, _states[k]);
        }
        Version++;
        return new ExchangeReply(factor == 1 ? ExchangeStatus.Applied : ExchangeStatus.Scaled, Version, staleness);
    }

    private void CheckShapes(List<int> lengths, string name)
    {
        if (lengths.Count != _parameters.Length)
            throw new ArgumentException($"The server holds {_parameters.Length} tensors but {lengths.Count} buffers were given.", name);
        for (int k = 0; k < lengths.Count; k++)
            if (lengths[k] != _parameters[k].Length)
                throw new ArgumentException($"Tensor {k} has {_parameters[k].Length} values but its buffer has {lengths[k]}.", name);
    }

    private sealed class WorkerStream
    {
        public long Next;
        public long Incarnation;
        public bool Resync;
        public readonly SortedDictionary<long, (long BaseVersion, T[][] Gradients)> Queued = [];
    }
}
