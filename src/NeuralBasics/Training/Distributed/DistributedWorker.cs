using System.Numerics;
using NeuralBasics.Data;

namespace NeuralBasics.Training.Distributed;

/// <summary>
/// What every distributed worker is: a replica with what trains it, an id, and a run over its rows
/// of a data set that ends in a <see cref="WorkerReport"/>. <see cref="DownpourWorker{T}"/>,
/// <see cref="ElasticAveragingWorker{T}"/> and <see cref="SynchronousWorker{T}"/> differ in how they
/// meet the shared state.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
public abstract class DistributedWorker<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>A worker training <paramref name="setup"/>'s score function (its replica, changed in place).</summary>
    /// <param name="setup">The replica, loss, regularizer and update chain.</param>
    /// <param name="worker">This worker's id: its messages' stamp and its shuffling seed.</param>
    /// <exception cref="ArgumentNullException"><paramref name="setup"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="worker"/> is negative.</exception>
    protected DistributedWorker(TrainingSetup<T> setup, int worker)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentOutOfRangeException.ThrowIfNegative(worker);
        Setup = setup;
        Worker = worker;
    }

    /// <summary>The replica and what trains it.</summary>
    public TrainingSetup<T> Setup { get; }

    /// <summary>This worker's id.</summary>
    public int Worker { get; }

    /// <summary>
    /// Which start of the worker this is, stamped on every message (<see cref="MessageStamp.Incarnation"/>):
    /// 0, the default, for a worker that is never restarted; a worker process that may be replaced
    /// under the same id passes a larger value at each start (its start time in ticks will do).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public long Incarnation { get; init { ArgumentOutOfRangeException.ThrowIfNegative(value); field = value; } }

    /// <summary>The first stamp of a stream of messages.</summary>
    protected MessageStamp FirstStamp() => new(Worker, 1, Incarnation);

    /// <summary>Stops a worker whose id has been restarted elsewhere since it started.</summary>
    /// <exception cref="InvalidOperationException">The reply says <see cref="ExchangeStatus.Superseded"/>.</exception>
    protected ExchangeReply Check(ExchangeReply reply) => reply.Status == ExchangeStatus.Superseded
        ? throw new InvalidOperationException(
            $"Worker {Worker} (start {Incarnation}) was replaced: the shared state has seen a later start of the same id, so this one stops.")
        : reply;

    /// <summary>Trains on every row of <paramref name="data"/>.</summary>
    public Task<WorkerReport> RunAsync(DataSet<T> data, IProgress<WorkerReport>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        return RunAsync(data, Enumerable.Range(0, data.Count).ToArray(), progress, cancellationToken);
    }

    /// <summary>Trains on the given <paramref name="rows"/> of <paramref name="data"/> (its shard), reporting after each epoch.</summary>
    public abstract Task<WorkerReport> RunAsync(DataSet<T> data, ReadOnlyMemory<int> rows, IProgress<WorkerReport>? progress = null,
        CancellationToken cancellationToken = default);
}
