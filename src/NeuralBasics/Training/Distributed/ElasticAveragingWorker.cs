using System.Numerics;
using NeuralBasics.Data;

namespace NeuralBasics.Training.Distributed;

/// <summary>
/// One elastic averaging SGD worker (Zhang, Choromanska and LeCun, "Deep learning with Elastic
/// Averaging SGD", NIPS 2015): it trains its own replica with the whole update chain and every τ
/// steps exchanges its parameters with the center variable, each pulled toward the other by α.
/// The same worker runs as a thread of <see cref="ElasticAveragingTrainer{T}"/> or as a process of
/// its own (NeuralBasics.Orleans).
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class ElasticAveragingWorker<T> : DistributedWorker<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>A worker training <paramref name="setup"/>'s score function (its replica, changed in place) against <paramref name="center"/>.</summary>
    /// <param name="setup">The replica, loss, regularizer and update chain.</param>
    /// <param name="center">The center variable.</param>
    /// <param name="worker">This worker's id: its messages' stamp and its shuffling seed.</param>
    /// <param name="options">Epochs, batch size, τ, α and the seed; the defaults when null.</param>
    public ElasticAveragingWorker(TrainingSetup<T> setup, ICenterVariable<T> center, int worker, ElasticAveragingOptions? options = null)
        : base(setup, worker)
    {
        ArgumentNullException.ThrowIfNull(center);
        Center = center;
        Options = options ?? new ElasticAveragingOptions();
    }

    /// <summary>The center variable.</summary>
    public ICenterVariable<T> Center { get; }

    /// <summary>The run's settings.</summary>
    public ElasticAveragingOptions Options { get; }

    /// <summary>Trains on the given <paramref name="rows"/> of <paramref name="data"/> (its shard).</summary>
    /// <exception cref="ArgumentException">The data does not fit the replica, or the shard is empty.</exception>
    /// <exception cref="TrainingDivergedException">A loss or gradient was not finite: that batch changed nothing.</exception>
    public override async Task<WorkerReport> RunAsync(DataSet<T> data, ReadOnlyMemory<int> rows, IProgress<WorkerReport>? progress = null,
        CancellationToken cancellationToken = default)
    {
        WorkerChecks.Data(data, rows, Setup.Score);
        var step = new TrainingStep<T>(Setup);
        var batches = new ShardBatches<T>(data, rows.Span, Options.BatchSize, Options.Seed, Worker);
        Memory<T>[] parameters = [.. Setup.Score.Parameters.Select(p => p.Value.Memory)];
        T alpha = T.CreateChecked(Options.Alpha);
        var meter = new WorkerMeter<T>(Worker, Setup.Score, Center);
        var stamp = FirstStamp();
        for (int epoch = 1; epoch <= Options.Epochs; epoch++)
        {
            batches.StartEpoch();
            for (int start = 0, batch = 1; start < batches.RowCount; start += batches.BatchSize, batch++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int size = batches.Gather(start, out var x, out var y);
                T loss = step.Run(x, y.AsSpan());
                if (!T.IsFinite(loss))
                    throw new TrainingDivergedException(
                        $"EASGD worker {Worker} diverged in epoch {epoch}, batch {batch}: {step.LastProblem}.",
                        new TrainingHistory(), epoch, batch, step.LastProblem!);
                meter.Batch(loss, size);
                if (meter.Steps % Options.Tau == 0 && Options.Alpha > 0)
                {
                    meter.Sent();
                    var reply = Check(await Center.ExchangeAsync(stamp, alpha, parameters, cancellationToken).ConfigureAwait(false));
                    meter.Received();
                    meter.Version = reply.Version;
                    if (!reply.Accepted && reply.Status != ExchangeStatus.Duplicate)
                        meter.Rejected++;
                    stamp = stamp.Next();
                }
            }
            var epochReport = meter.EndEpoch();
            progress?.Report(epochReport);
        }
        return meter.Report();
    }
}
