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
