using System.Numerics;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Orleans;

/// <summary>
/// The <see cref="IParameterServer{T}"/> a worker in any process uses to reach the run's
/// <see cref="IParameterServerGrain{T}"/> through an Orleans client (or from inside a silo).
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class OrleansParameterServer<T> : IParameterServer<T>, IExchangeMeter
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IParameterServerGrain<T> _grain;
    private readonly RetryPolicy _retry;
    private readonly ExchangeByteCounter _bytes = new();

    /// <summary>
    /// The server of the run <paramref name="run"/>, reached through <paramref name="grains"/>; pushes
    /// and fetched parameters travel at <paramref name="precision"/> (16 bits halve a float model's
    /// bytes; the server still applies the update in the model's own type).
    /// </summary>
    public OrleansParameterServer(IGrainFactory grains, string run, RetryPolicy? retry = null, MessagePrecision precision = MessagePrecision.Full)
    {
        Precision = precision;
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentException.ThrowIfNullOrEmpty(run);
        _grain = grains.GetGrain<IParameterServerGrain<T>>(run);
        _retry = retry ?? RetryPolicy.Default;
        Run = run;
    }

    /// <summary>
    /// A parameter server for the run <paramref name="run"/> split over <paramref name="shards"/>
    /// grains (<see cref="ShardedParameterServer{T}"/>), by default into equal ranges of the model's
    /// values (<see cref="ShardedParameterServer{T}.ByRange"/>), each grain initialized with its slices
    /// unless it has some already (every worker may call it, with the same arguments). Shard s of S is
    /// the grain <c>{run}/shard-{s}-of-{S}</c>, under the run's silo settings; with one shard, the run's
    /// own grain, so a run is bit for bit the unsharded one. Shard s is activated on the s-th of the
    /// cluster's active silos in <see cref="OrleansPlacement.ActiveSilosAsync"/>'s order (round the
    /// list when there are more shards than silos), so S shards on S silos go one per silo and every
    /// link carries 1/S of the traffic; a worker fetches from and pushes to all of them at once.
    /// </summary>
    /// <exception cref="ArgumentException">The layout does not fit the tensors.</exception>
    /// <exception cref="InvalidOperationException">A shard already holds tensors of other sizes: another model uses the run name.</exception>
    public static async Task<ShardedParameterServer<T>> CreateShardedAsync(IGrainFactory grains, string run, IReadOnlyList<ReadOnlyMemory<T>> initial,
        int shards, IReadOnlyList<IReadOnlyList<TensorSlice>>? layout = null, RetryPolicy? retry = null, MessagePrecision precision = MessagePrecision.Full,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentException.ThrowIfNullOrEmpty(run);
        ArgumentNullException.ThrowIfNull(initial);
        layout ??= ShardedParameterServer<T>.ByRange([.. initial.Select(t => t.Length)], shards);
        if (layout.Count != shards)
            throw new ArgumentException($"The layout has {layout.Count} shards, not {shards}.", nameof(layout));
        var servers = new List<OrleansParameterServer<T>>();
        var server = ShardedParameterServer<T>.Create(initial, layout, _ =>
        {
            var shard = new OrleansParameterServer<T>(grains, NeuralBasicsTrainingOptions.ShardKey(run, servers.Count, shards), retry, precision);
            servers.Add(shard);
            return shard;
        });
        var silos = shards > 1 ? await OrleansPlacement.ActiveSilosAsync(grains, cancellationToken).ConfigureAwait(false) : [];
        await Task.WhenAll(servers.Select((shard, s) => OrleansPlacement.OnSilo(silos.Count > 0 ? silos[s % silos.Count] : null,
            () => shard.InitializeAsync(server.SlicesOf(s, initial), cancellationToken)))).ConfigureAwait(false);
        return server;
    }

    /// <summary>How the values of pushes and fetches travel.</summary>
    public MessagePrecision Precision { get; }

    /// <summary>The run's name, the grain's key.</summary>
    public string Run { get; }

    /// <summary>The grain itself, for status queries.</summary>
    public IParameterServerGrain<T> Grain => _grain;

    /// <summary>Gives the server its initial parameters unless it has some already (every worker may call it); returns the version.</summary>
    /// <exception cref="InvalidOperationException">The server already holds tensors of other sizes: another model uses the run name.</exception>
    public Task<long> InitializeAsync(IEnumerable<ReadOnlyMemory<T>> initial, CancellationToken cancellationToken = default)
    {
        var values = PackedTensors.Pack<T>([.. initial]);
        return _retry.Run(() => _grain.Initialize(values), cancellationToken);
    }

    /// <inheritdoc/>
    public async ValueTask<long> FetchAsync(MessageStamp stamp, IReadOnlyList<Memory<T>> destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var fetched = await _retry.Run(() => _grain.Fetch(stamp, Precision), cancellationToken).ConfigureAwait(false);
        fetched.Tensors.CopyTo(destination);
        _bytes.Add(stamp.Worker, 0, fetched.Tensors.Bytes.Length);
        return fetched.Version;
    }

    /// <summary>The bytes of the values each worker has sent and received through this client (as packed: 16-bit values count 2 bytes).</summary>
    public (long Sent, long Received) BytesOf(int worker) => _bytes.BytesOf(worker);

    /// <inheritdoc/>
    public async ValueTask<ExchangeReply> PushAsync(MessageStamp stamp, long baseVersion, IReadOnlyList<ReadOnlyMemory<T>> gradients,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        var values = PackedTensors.Pack<T>([.. gradients], Precision);
        var reply = await _retry.Run(() => _grain.Push(stamp, baseVersion, values), cancellationToken).ConfigureAwait(false);
        _bytes.Add(stamp.Worker, values.Bytes.Length, 0);
        return reply;
    }
}
