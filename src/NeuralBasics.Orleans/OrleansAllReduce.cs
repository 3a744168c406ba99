using System.Numerics;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Orleans;

/// <summary>The <see cref="IGradientAllReduce{T}"/> workers in any process use to reach the run's <see cref="IAllReduceGrain{T}"/>.</summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class OrleansAllReduce<T> : IGradientAllReduce<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IAllReduceGrain<T> _grain;
    private readonly RetryPolicy _retry;

    private OrleansAllReduce(IAllReduceGrain<T> grain, int workerCount, RetryPolicy retry)
    {
        _grain = grain;
        WorkerCount = workerCount;
        _retry = retry;
    }

    /// <inheritdoc/>
    public int WorkerCount { get; }

    /// <summary>Joins the all-reduce of the run <paramref name="run"/> among <paramref name="workerCount"/> workers (every worker must pass the same count).</summary>
    public static async Task<OrleansAllReduce<T>> JoinAsync(IGrainFactory grains, string run, int workerCount, RetryPolicy? retry = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentException.ThrowIfNullOrEmpty(run);
        ArgumentOutOfRangeException.ThrowIfLessThan(workerCount, 1);
        retry ??= RetryPolicy.Default;
        var grain = grains.GetGrain<IAllReduceGrain<T>>(run);
        await retry.Run(() => grain.Initialize(workerCount), cancellationToken).ConfigureAwait(false);
        return new OrleansAllReduce<T>(grain, workerCount, retry);
    }

    /// <inheritdoc/>
    public async ValueTask<int> AllReduceAsync(MessageStamp stamp, int rows, IReadOnlyList<Memory<T>> gradients, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        var values = PackedTensors.Pack(gradients);
        var answer = await _retry.Run(() => _grain.Contribute(stamp, rows, values), cancellationToken).ConfigureAwait(false);
        answer.Sum.CopyTo(gradients);
        return answer.Rows;
    }
}
