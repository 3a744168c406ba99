using System.Numerics;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Orleans;

/// <summary>
/// The <see cref="IParameterServer{T}"/> a worker in any process uses to reach the run's
/// <see cref="IParameterServerGrain{T}"/> through an Orleans client (or from inside a silo).
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class OrleansParameterServer<T> : IParameterServer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IParameterServerGrain<T> _grain;
    private readonly RetryPolicy _retry;

    /// <summary>The server of the run <paramref name="run"/>, reached through <paramref name="grains"/>.</summary>
    public OrleansParameterServer(IGrainFactory grains, string run, RetryPolicy? retry = null)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentException.ThrowIfNullOrEmpty(run);
        _grain = grains.GetGrain<IParameterServerGrain<T>>(run);
        _retry = retry ?? RetryPolicy.Default;
        Run = run;
    }

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
        var fetched = await _retry.Run(() => _grain.Fetch(stamp), cancellationToken).ConfigureAwait(false);
        fetched.Tensors.CopyTo(destination);
        return fetched.Version;
    }

    /// <inheritdoc/>
    public async ValueTask<ExchangeReply> PushAsync(MessageStamp stamp, long baseVersion, IReadOnlyList<ReadOnlyMemory<T>> gradients,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        var values = PackedTensors.Pack(gradients);
        return await _retry.Run(() => _grain.Push(stamp, baseVersion, values), cancellationToken).ConfigureAwait(false);
    }
}
