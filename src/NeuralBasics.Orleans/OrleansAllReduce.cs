using System.Numerics;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Orleans;

/// <summary>The <see cref="IGradientAllReduce{T}"/> workers in any process use to reach the run's <see cref="IAllReduceGrain{T}"/>.</summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class OrleansAllReduce<T> : IGradientAllReduce<T>, IExchangeMeter
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IAllReduceGrain<T> _grain;
    private readonly RetryPolicy _retry;
    private readonly ExchangeByteCounter _bytes = new();

    private OrleansAllReduce(IAllReduceGrain<T> grain, int workerCount, RetryPolicy retry, MessagePrecision precision)
    {
        Precision = precision;
        _grain = grain;
        WorkerCount = workerCount;
        _retry = retry;
    }

    /// <inheritdoc/>
    public int WorkerCount { get; }

    /// <summary>How contributions and sums travel (every worker of a run should use the same).</summary>
    public MessagePrecision Precision { get; }

    /// <summary>Joins the all-reduce of the run <paramref name="run"/> among <paramref name="workerCount"/> workers (every worker must pass the same count).</summary>
    public static Task<OrleansAllReduce<T>> JoinAsync(IGrainFactory grains, string run, int workerCount, RetryPolicy? retry = null,
        CancellationToken cancellationToken = default) => JoinAsync(grains, run, workerCount, TimeSpan.Zero, retry, MessagePrecision.Full, cancellationToken);

    /// <summary>
    /// Joins the all-reduce of the run <paramref name="run"/> among <paramref name="workerCount"/>
    /// workers with a round deadline (every worker must pass the same count and deadline; zero for
    /// none): a round still waiting that long after its first contribution completes without the
    /// workers missing, which are dropped for the rest of the run; their later contributions are
    /// refused (<see cref="InvalidOperationException"/>), so none is added twice or late.
    /// </summary>
    /// <exception cref="ArgumentException">The run already has another worker count or deadline.</exception>
    public static async Task<OrleansAllReduce<T>> JoinAsync(IGrainFactory grains, string run, int workerCount, TimeSpan roundDeadline,
        RetryPolicy? retry = null, MessagePrecision precision = MessagePrecision.Full, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentException.ThrowIfNullOrEmpty(run);
        ArgumentOutOfRangeException.ThrowIfLessThan(workerCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(roundDeadline, TimeSpan.Zero);
        retry ??= RetryPolicy.Default;
        var grain = grains.GetGrain<IAllReduceGrain<T>>(run);
        int milliseconds = (int)Math.Min(int.MaxValue, Math.Ceiling(roundDeadline.TotalMilliseconds));
        await retry.Run(() => grain.Initialize(workerCount, milliseconds), cancellationToken).ConfigureAwait(false);
        return new OrleansAllReduce<T>(grain, workerCount, retry, precision);
    }

    /// <summary>The workers still taking part, in id order.</summary>
    public Task<int[]> MembersAsync() => _grain.Members();

    /// <inheritdoc/>
    public async ValueTask<int> AllReduceAsync(MessageStamp stamp, int rows, IReadOnlyList<Memory<T>> gradients, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        var values = PackedTensors.Pack<T>([.. gradients.Select(g => (ReadOnlyMemory<T>)g)], Precision);
        var answer = await _retry.Run(() => _grain.Contribute(stamp, rows, values), cancellationToken).ConfigureAwait(false);
        answer.Sum.CopyTo(gradients);
        _bytes.Add(stamp.Worker, values.Bytes.Length, answer.Sum.Bytes.Length);
        return answer.Rows;
    }

    /// <summary>The bytes of the values each worker has sent and received through this client (as packed: 16-bit values count 2 bytes).</summary>
    public (long Sent, long Received) BytesOf(int worker) => _bytes.BytesOf(worker);
}
