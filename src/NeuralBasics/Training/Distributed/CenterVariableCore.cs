using System.Numerics;
using System.Numerics.Tensors;
using NeuralBasics.Kernels;

namespace NeuralBasics.Training.Distributed;

/// <summary>
/// What an EASGD center variable does with its messages, free of any transport and not
/// thread-safe (the caller serializes calls). It keeps the center x̃, a version (the exchanges
/// applied), and per worker the last exchange with the parameters it handed back, so a repeated
/// exchange gets the same answer without moving the center twice.
/// </summary>
/// <remarks>
/// An exchange waits for its answer, so a worker has one in flight at a time: a stamp newer than
/// the worker's last is applied (a gap means a message was lost before it changed anything), the
/// last one again is a <see cref="ExchangeStatus.Duplicate"/>, an older one is
/// <see cref="ExchangeStatus.Outdated"/>. A larger <see cref="MessageStamp.Incarnation"/> than the
/// worker's so far (it was restarted) starts afresh; a smaller one is
/// <see cref="ExchangeStatus.Superseded"/>. Every exchange is checked whole (tensor count and
/// lengths, finite values, α in [0, 1]) before anything changes.
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
public sealed class CenterVariableCore<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[][] _center;
    private readonly Dictionary<int, (long Sequence, T[][]? Reply, long Incarnation)> _last = [];

    /// <summary>
    /// Starts the center at <paramref name="initial"/> (copied), one array per parameter tensor; a
    /// center restored from storage passes its <paramref name="version"/> and each worker's last
    /// applied exchange (<paramref name="lastSequences"/>), whose repeats are then
    /// <see cref="ExchangeStatus.Outdated"/> (the answer they got is not stored), and each worker's
    /// incarnation (<paramref name="incarnations"/>; 0 for a worker missing there).
    /// </summary>
    public CenterVariableCore(IEnumerable<ReadOnlyMemory<T>> initial, long version = 0, IReadOnlyDictionary<int, long>? lastSequences = null,
        IReadOnlyDictionary<int, long>? incarnations = null)
    {
        ArgumentNullException.ThrowIfNull(initial);
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        _center = [.. initial.Select(m => m.ToArray())];
        if (_center.Length == 0)
            throw new ArgumentException("A center variable needs at least one tensor.", nameof(initial));
        Version = version;
        foreach (var (worker, sequence) in lastSequences ?? new Dictionary<int, long>())
            _last[worker] = (sequence, null, incarnations?.GetValueOrDefault(worker) ?? 0);
    }

    /// <summary>Each worker's last applied exchange, for storing with the center.</summary>
    public IReadOnlyDictionary<int, long> LastSequences => _last.ToDictionary(w => w.Key, w => w.Value.Sequence);

    /// <summary>Each worker's incarnation where it is not 0, for storing with the center.</summary>
    public IReadOnlyDictionary<int, long> Incarnations => _last.Where(w => w.Value.Incarnation != 0).ToDictionary(w => w.Key, w => w.Value.Incarnation);

    /// <summary>The exchanges applied so far.</summary>
    public long Version { get; private set; }

    /// <summary>The center's tensors (live: copy them to keep a snapshot).</summary>
    public IReadOnlyList<T[]> Center => _center;

    /// <summary>The elastic exchange for every tensor (see <see cref="ICenterVariable{T}.ExchangeAsync"/>).</summary>
    /// <exception cref="ArgumentException">The buffers do not match the tensors, hold a non-finite value, or α is outside [0, 1].</exception>
    public ExchangeReply Exchange(MessageStamp stamp, T alpha, IReadOnlyList<Memory<T>> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(alpha >= T.Zero && alpha <= T.One))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "α must be in [0, 1].");
        if (parameters.Count != _center.Length)
            throw new ArgumentException($"The center holds {_center.Length} tensors but {parameters.Count} buffers were given.", nameof(parameters));
        for (int k = 0; k < _center.Length; k++)
        {
            if (parameters[k].Length != _center[k].Length)
                throw new ArgumentException($"Tensor {k} has {_center[k].Length} values at the center but {parameters[k].Length} in the exchange.", nameof(parameters));
            if (!TensorPrimitives.IsFiniteAll<T>(parameters[k].Span))
                throw new ArgumentException($"The exchange from {stamp} holds a non-finite value in tensor {k}.", nameof(parameters));
        }

        bool known = _last.TryGetValue(stamp.Worker, out var last);
        if (known && stamp.Incarnation < last.Incarnation)
            return new ExchangeReply(ExchangeStatus.Superseded, Version);
        if (known && stamp.Incarnation == last.Incarnation && stamp.Sequence <= last.Sequence)
        {
            if (stamp.Sequence < last.Sequence || last.Reply is null)
                return new ExchangeReply(ExchangeStatus.Outdated, Version);
            for (int k = 0; k < _center.Length; k++)
                last.Reply[k].CopyTo(parameters[k].Span);
            return new ExchangeReply(ExchangeStatus.Duplicate, Version);
        }

        var reply = last.Reply ?? [.. _center.Select(c => new T[c.Length])];
        for (int k = 0; k < _center.Length; k++)
        {
            var local = parameters[k].Span;
            var center = _center[k];
            for (int i = 0; i < local.Length; i++)
            {
                // Flushed: as the two converge the difference would otherwise sink into the slow subnormal range.
                T difference = Subnormal.Flush(local[i] - center[i]);
                local[i] -= alpha * difference;
                center[i] += alpha * difference;
            }
            local.CopyTo(reply[k]);
        }
        _last[stamp.Worker] = (stamp.Sequence, reply, stamp.Incarnation);
        Version++;
        return new ExchangeReply(ExchangeStatus.Applied, Version);
    }

    /// <summary>Copies the center into <paramref name="destination"/> and returns its version.</summary>
    /// <exception cref="ArgumentException">The buffers do not match the tensors.</exception>
    public long Read(IReadOnlyList<Memory<T>> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.Count != _center.Length || destination.Where((d, k) => d.Length != _center[k].Length).Any())
            throw new ArgumentException("The buffers do not match the center's tensors.", nameof(destination));
        for (int k = 0; k < _center.Length; k++)
            _center[k].CopyTo(destination[k].Span);
        return Version;
    }
}
