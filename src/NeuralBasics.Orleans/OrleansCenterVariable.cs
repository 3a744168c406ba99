using System.Numerics;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Orleans;

/// <summary>The <see cref="ICenterVariable{T}"/> a worker in any process uses to reach the run's <see cref="ICenterVariableGrain{T}"/>.</summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class OrleansCenterVariable<T> : ICenterVariable<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ICenterVariableGrain<T> _grain;
    private readonly RetryPolicy _retry;

    /// <summary>The center variable of the run <paramref name="run"/>, reached through <paramref name="grains"/>.</summary>
    public OrleansCenterVariable(IGrainFactory grains, string run, RetryPolicy? retry = null)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentException.ThrowIfNullOrEmpty(run);
        _grain = grains.GetGrain<ICenterVariableGrain<T>>(run);
        _retry = retry ?? RetryPolicy.Default;
    }

    /// <summary>Gives the center its initial values unless it has some already; returns the version.</summary>
    /// <exception cref="InvalidOperationException">The center already holds tensors of other sizes: another model uses the run name.</exception>
    public Task<long> InitializeAsync(IEnumerable<ReadOnlyMemory<T>> initial, CancellationToken cancellationToken = default)
    {
        var values = PackedTensors.Pack<T>([.. initial]);
        return _retry.Run(() => _grain.Initialize(values), cancellationToken);
    }

    /// <inheritdoc/>
    public async ValueTask<ExchangeReply> ExchangeAsync(MessageStamp stamp, T alpha, IReadOnlyList<Memory<T>> parameters, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var values = PackedTensors.Pack(parameters);
        var answer = await _retry.Run(() => _grain.Exchange(stamp, alpha, values), cancellationToken).ConfigureAwait(false);
        if (answer.Reply.Status != ExchangeStatus.Outdated)
            answer.Parameters.CopyTo(parameters);
        return answer.Reply;
    }

    /// <inheritdoc/>
    public async ValueTask<long> ReadAsync(IReadOnlyList<Memory<T>> destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var read = await _retry.Run(() => _grain.Read(), cancellationToken).ConfigureAwait(false);
        read.Tensors.CopyTo(destination);
        return read.Version;
    }
}
