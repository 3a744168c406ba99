using System.Numerics;
using System.Numerics.Tensors;
using NeuralBasics.Data;

namespace NeuralBasics.Training.Distributed;

/// <summary>
/// One worker of synchronous data-parallel training across processes: each step it computes the
/// gradient of its own batch, all workers' gradients are summed (weighted by their rows, in worker-id
/// order) by an <see cref="IGradientAllReduce{T}"/>, and every worker applies the same update chain to
/// the same mean gradient, so all replicas stay identical and equal, up to rounding, to one worker
/// training on the union of the batches.
/// </summary>
/// <remarks>
/// Workers may hold different numbers of rows: one that has run out in an epoch contributes zero
/// rows (and still applies the common update) until every worker has; the epoch ends at the first
/// round in which no worker had rows.
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
public sealed class SynchronousWorker<T> : DistributedWorker<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>A worker training <paramref name="setup"/>'s score function (its replica, changed in place) with <paramref name="allReduce"/>.</summary>
    /// <param name="setup">The replica, loss, regularizer and update chain; every worker's must start from the same weights.</param>
    /// <param name="allReduce">The all-reduce shared by the workers.</param>
    /// <param name="worker">This worker's id, from 0 to the all-reduce's worker count − 1.</param>
    /// <param name="options">Epochs, batch size per worker, shuffling and seed; the defaults when null.</param>
    public SynchronousWorker(TrainingSetup<T> setup, IGradientAllReduce<T> allReduce, int worker, SynchronousOptions? options = null)
        : base(setup, worker)
    {
        ArgumentNullException.ThrowIfNull(allReduce);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(worker, allReduce.WorkerCount);
        AllReduce = allReduce;
        Options = options ?? new SynchronousOptions();
    }

    /// <summary>The all-reduce.</summary>
    public IGradientAllReduce<T> AllReduce { get; }

    /// <summary>The run's settings.</summary>
    public SynchronousOptions Options { get; }

    /// <summary>Trains on the given <paramref name="rows"/> of <paramref name="data"/> (its shard).</summary>
    /// <exception cref="ArgumentException">The data does not fit the replica.</exception>
    /// <exception cref="TrainingDivergedException">A loss or gradient was not finite: nothing was sent for that step.</exception>
    public override async Task<WorkerReport> RunAsync(DataSet<T> data, ReadOnlyMemory<int> rows, IProgress<WorkerReport>? progress = null,
        CancellationToken cancellationToken = default)
    {
        WorkerChecks.Data(data, Setup.Score);
        var parameters = Setup.Score.Parameters;
        var gradient = GradientComputation<T>.Create(Setup.Score, Setup.Loss, Setup.Regularizer);
        var batches = new ShardBatches<T>(data, rows.Span, Options.BatchSize, Options.Seed, Worker, Options.Shuffle);
        Memory<T>[] gradients = [.. parameters.Select(p => p.Gradient.Memory)];
        var chain = new ChainApplication<T>(parameters, Setup.Update);
        var meter = new WorkerMeter<T>(Worker, Setup.Score, AllReduce);
        var stamp = FirstStamp();
        for (int epoch = 1; epoch <= Options.Epochs; epoch++)
        {
            batches.StartEpoch();
            for (int start = 0, batch = 1; ; start += batches.BatchSize, batch++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int size = 0;
                if (start < batches.RowCount)
                {
                    size = batches.Gather(start, out var x, out var y);
                    T loss = gradient.Compute(x, y.AsSpan());
                    if (!T.IsFinite(loss))
                        throw new TrainingDivergedException(
                            $"Synchronous worker {Worker} diverged in epoch {epoch}, batch {batch}: {gradient.LastProblem}.",
                            new TrainingHistory(), epoch, batch, gradient.LastProblem!);
                    meter.Batch(loss, size);
                    foreach (var g in gradients)
                        TensorPrimitives.Multiply(g.Span, T.CreateChecked(size), g.Span);
                }
                else
                {
                    foreach (var g in gradients)
                        g.Span.Clear();
                }
                meter.Sent();
                int total = await AllReduce.AllReduceAsync(stamp, size, gradients, cancellationToken).ConfigureAwait(false);
                meter.Received();
                stamp = stamp.Next();
                if (total == 0)
                    break;
                double squares = 0;
                foreach (var g in gradients)
                {
                    TensorPrimitives.Divide(g.Span, T.CreateChecked(total), g.Span);
                    squares += GradientPreparation<T>.SumOfSquares(g.Span);
                }
                chain.Run(Math.Sqrt(squares));
                meter.Version++;
            }
            var epochReport = meter.EndEpoch();
            progress?.Report(epochReport);
        }
        return meter.Report();
    }
}
