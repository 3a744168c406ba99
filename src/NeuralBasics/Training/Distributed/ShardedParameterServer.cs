using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace NeuralBasics.Training.Distributed;

/// <summary>
/// One parameter server split over several (DistBelief's sharded parameter server, Dean et al.
/// 2012): each shard holds some tensors or contiguous slices of them (<see cref="TensorSlice"/>), a
/// fetch and a push go to every shard at once, and each shard stamps, orders and applies its part
/// exactly as a whole server would — its own version, its own staleness bound, its own update-rule
/// state. The library's update rules act on each element alone, so the shards' updates together are
/// the whole server's and one worker gets the same bits with any layout. What sharding changes: a
/// fetch may see one shard after a push and another before it (each shard is consistent, the model
/// as a whole is not), as in DistBelief.
/// </summary>
/// <remarks>
/// A push is stamped once and sent with the same stamp to every shard, each of which keeps its own
/// sequence per worker, so a retried push is applied once per shard. The base version a shard sees is
/// the version that shard reported to the same worker's last fetch. The combined reply: the shards'
/// status when they agree; otherwise the most consequential of them (superseded, rejected as stale,
/// outdated, scaled, queued, applied; a duplicate counts only when every shard says so); the lowest
/// version; the largest staleness.
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
public sealed class ShardedParameterServer<T> : IParameterServer<T>, IExchangeMeter
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IParameterServer<T>[] _shards;
    private readonly TensorSlice[][] _layout;
    private readonly int[] _tensorLengths;
    private readonly ConcurrentDictionary<(int Worker, long Incarnation), long[]> _fetched = new();
    /// <summary>The bytes moved through shards that do not count their own (at the element type's size).</summary>
    private readonly ExchangeByteCounter _uncounted = new();
    /// <summary>The bytes of those shards' slices: what each fetch and push moves through them.</summary>
    private readonly long _uncountedBytes;

    /// <summary>A server over <paramref name="shards"/>; shard s holds the slices <paramref name="layout"/>[s], in order, of tensors of <paramref name="tensorLengths"/>.</summary>
    /// <exception cref="ArgumentException">No shard, a layout of another count, an empty shard, or slices that do not cover every tensor exactly once.</exception>
    public ShardedParameterServer(IReadOnlyList<IParameterServer<T>> shards, IReadOnlyList<IReadOnlyList<TensorSlice>> layout, IReadOnlyList<int> tensorLengths)
    {
        ArgumentNullException.ThrowIfNull(shards);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(tensorLengths);
        if (shards.Count == 0)
            throw new ArgumentException("A sharded server needs at least one shard.", nameof(shards));
        if (layout.Count != shards.Count)
            throw new ArgumentException($"The layout has {layout.Count} shards but {shards.Count} servers are given.", nameof(layout));
        _shards = [.. shards.Select(s => s ?? throw new ArgumentException("A shard is null.", nameof(shards)))];
        _layout = [.. layout.Select(l => l.ToArray())];
        _tensorLengths = [.. tensorLengths];
        CheckCovers(_layout, _tensorLengths);
        Layout = _layout;
        _uncountedBytes = _layout.Where((_, s) => _shards[s] is not IExchangeMeter).Sum(l => l.Sum(x => (long)x.Length)) * Unsafe.SizeOf<T>();
    }

    private static void CheckCovers(TensorSlice[][] layout, int[] lengths)
    {
        if (Array.FindIndex(layout, l => l.Length == 0) is int empty and >= 0)
            throw new ArgumentException($"Shard {empty} holds nothing; use fewer shards.", nameof(layout));
        var slices = layout.SelectMany(l => l).ToArray();
        foreach (var slice in slices)
            if ((uint)slice.Tensor >= (uint)lengths.Length || slice.Start < 0 || slice.Length < 1 || slice.Start > lengths[slice.Tensor] - slice.Length)
                throw new ArgumentException($"The slice {slice} lies outside the {lengths.Length} tensors.", nameof(layout));
        for (int k = 0; k < lengths.Length; k++)
        {
            int covered = 0;
            foreach (var slice in slices.Where(x => x.Tensor == k).OrderBy(x => x.Start))
                covered = slice.Start == covered ? covered + slice.Length
                    : throw new ArgumentException($"Tensor {k}'s slices leave a gap or overlap at element {Math.Min(covered, slice.Start)}.", nameof(layout));
            if (covered != lengths[k])
                throw new ArgumentException($"Tensor {k}'s slices cover {covered} of its {lengths[k]} elements.", nameof(layout));
        }
    }

    /// <summary>
    /// Whole tensors on <paramref name="shards"/> shards, as even as greedy makes them: largest first,
    /// each on the shard holding the fewest values so far (ties to the lower shard), so every shard
    /// gets at least one. Deterministic. Uneven when one tensor dominates (an MLP's first weights).
    /// </summary>
    /// <exception cref="ArgumentException">Fewer tensors than shards.</exception>
    public static IReadOnlyList<IReadOnlyList<TensorSlice>> ByTensor(IReadOnlyList<int> tensorLengths, int shards)
    {
        ArgumentNullException.ThrowIfNull(tensorLengths);
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        if (tensorLengths.Count < shards)
            throw new ArgumentException($"{tensorLengths.Count} tensors cannot fill {shards} shards; split by range instead.", nameof(shards));
        var load = new long[shards];
        var layout = Enumerable.Range(0, shards).Select(_ => new List<TensorSlice>()).ToArray();
        foreach (int k in Enumerable.Range(0, tensorLengths.Count).OrderByDescending(k => tensorLengths[k]).ThenBy(k => k))
        {
            int target = Array.IndexOf(load, load.Min());
            layout[target].Add(new TensorSlice(k, 0, tensorLengths[k]));
            load[target] += tensorLengths[k];
        }
        return [.. layout.Select(l => (IReadOnlyList<TensorSlice>)[.. l.OrderBy(x => x.Tensor)])];
    }

    /// <summary>
    /// The tensors laid end to end and cut into <paramref name="shards"/> contiguous ranges of equal
    /// size (the first ones one element longer when it does not divide), so every shard carries the
    /// same bytes; a tensor may be split between neighbouring shards.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer elements than shards.</exception>
    public static IReadOnlyList<IReadOnlyList<TensorSlice>> ByRange(IReadOnlyList<int> tensorLengths, int shards)
    {
        ArgumentNullException.ThrowIfNull(tensorLengths);
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        long total = tensorLengths.Sum(l => (long)l);
        if (total < shards)
            throw new ArgumentException($"{total} elements cannot fill {shards} shards.", nameof(shards));
        var layout = new List<TensorSlice>[shards];
        int tensor = 0, offset = 0;
        for (int s = 0; s < shards; s++)
        {
            layout[s] = [];
            long want = total / shards + (s < total % shards ? 1 : 0);
            while (want > 0)
            {
                int take = (int)Math.Min(want, tensorLengths[tensor] - offset);
                if (take > 0)
                    layout[s].Add(new TensorSlice(tensor, offset, take));
                want -= take;
                offset += take;
                if (offset == tensorLengths[tensor])
                    (tensor, offset) = (tensor + 1, 0);
            }
        }
        return layout;
    }

    /// <summary>A server over <paramref name="initial"/> laid out by <paramref name="layout"/>, shard s made by <paramref name="create"/> from its slices of the initial values, in order.</summary>
    /// <exception cref="ArgumentException">The layout does not fit the tensors.</exception>
    public static ShardedParameterServer<T> Create(IReadOnlyList<ReadOnlyMemory<T>> initial, IReadOnlyList<IReadOnlyList<TensorSlice>> layout,
        Func<IReadOnlyList<ReadOnlyMemory<T>>, IParameterServer<T>> create)
    {
        ArgumentNullException.ThrowIfNull(initial);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(create);
        int[] lengths = [.. initial.Select(t => t.Length)];
        CheckCovers([.. layout.Select(l => l.ToArray())], lengths);
        var servers = layout.Select(slices => create([.. slices.Select(x => initial[x.Tensor].Slice(x.Start, x.Length))])).ToList();
        return new ShardedParameterServer<T>(servers, layout, lengths);
    }

    /// <summary>What each shard holds.</summary>
    public IReadOnlyList<IReadOnlyList<TensorSlice>> Layout { get; }

    /// <summary>The shards.</summary>
    public IReadOnlyList<IParameterServer<T>> Shards => _shards;

    /// <summary>Shard <paramref name="shard"/>'s slices of <paramref name="tensors"/> (one buffer per tensor of the model), in order.</summary>
    public IReadOnlyList<ReadOnlyMemory<T>> SlicesOf(int shard, IReadOnlyList<ReadOnlyMemory<T>> tensors) =>
        [.. _layout[shard].Select(x => tensors[x.Tensor].Slice(x.Start, x.Length))];

    private Memory<T>[] SlicesOf(int shard, IReadOnlyList<Memory<T>> tensors) =>
        [.. _layout[shard].Select(x => tensors[x.Tensor].Slice(x.Start, x.Length))];

    /// <inheritdoc/>
    public async ValueTask<long> FetchAsync(MessageStamp stamp, IReadOnlyList<Memory<T>> destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        Check(destination.Select(d => d.Length), nameof(destination));
        var fetches = new Task<long>[_shards.Length];
        for (int s = 0; s < _shards.Length; s++)
            fetches[s] = _shards[s].FetchAsync(stamp, SlicesOf(s, destination), cancellationToken).AsTask();
        long[] versions = await Task.WhenAll(fetches).ConfigureAwait(false);
        _fetched[(stamp.Worker, stamp.Incarnation)] = versions;
        _uncounted.Add(stamp.Worker, 0, _uncountedBytes);
        return versions.Min();
    }

    /// <inheritdoc/>
    public async ValueTask<ExchangeReply> PushAsync(MessageStamp stamp, long baseVersion, IReadOnlyList<ReadOnlyMemory<T>> gradients,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        Check(gradients.Select(g => g.Length), nameof(gradients));
        long[]? bases = _fetched.GetValueOrDefault((stamp.Worker, stamp.Incarnation));
        var pushes = new Task<ExchangeReply>[_shards.Length];
        for (int s = 0; s < _shards.Length; s++)
            pushes[s] = _shards[s].PushAsync(stamp, bases?[s] ?? baseVersion, SlicesOf(s, gradients), cancellationToken).AsTask();
        var replies = await Task.WhenAll(pushes).ConfigureAwait(false);
        _uncounted.Add(stamp.Worker, _uncountedBytes, 0);
        return Combine(replies);
    }

    /// <summary>
    /// The bytes <paramref name="worker"/> has sent and received through the shards: each shard's own
    /// count where it keeps one (<see cref="IExchangeMeter"/>, e.g. 16-bit messages), else its slices
    /// at the element type's size per fetch and push.
    /// </summary>
    public (long Sent, long Received) BytesOf(int worker)
    {
        var (sent, received) = _uncounted.BytesOf(worker);
        foreach (var shard in _shards.OfType<IExchangeMeter>())
        {
            var (s, r) = shard.BytesOf(worker);
            (sent, received) = (sent + s, received + r);
        }
        return (sent, received);
    }

    /// <summary>The shards' replies as one (see the remarks).</summary>
    internal static ExchangeReply Combine(IReadOnlyList<ExchangeReply> replies)
    {
        ExchangeStatus[] precedence = [ExchangeStatus.Superseded, ExchangeStatus.RejectedStale, ExchangeStatus.Outdated, ExchangeStatus.Scaled,
            ExchangeStatus.Queued, ExchangeStatus.Applied, ExchangeStatus.Duplicate];
        var status = precedence.First(p => replies.Any(r => r.Status == p));
        return new ExchangeReply(status, replies.Min(r => r.Version), replies.Max(r => r.Staleness));
    }

    private void Check(IEnumerable<int> lengths, string name)
    {
        int[] given = [.. lengths];
        if (!given.SequenceEqual(_tensorLengths))
            throw new ArgumentException(
                $"The buffers hold [{string.Join(", ", given)}] elements but the server's tensors are [{string.Join(", ", _tensorLengths)}].", name);
    }
}
