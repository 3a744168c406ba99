using System.Numerics;
using NeuralBasics.Data;
using NeuralBasics.Losses;
using NeuralBasics.Models;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;

namespace NeuralBasics.Training.Distributed;

/// <summary>
/// Elastic averaging SGD (Zhang, Choromanska and LeCun, 2015, "Deep learning with Elastic Averaging
/// SGD"): each worker trains its own copy x_i of the network on its own shard of the data with any
/// update rule, and every τ local steps it and the shared center variable x̃ pull toward each other
/// with force α: <c>x_i ← x_i − α(x_i − x̃)</c>, <c>x̃ ← x̃ + α(x_i − x̃)</c>. Workers never wait for
/// each other; the exchange is the only shared step. The trained model is the center.
/// </summary>
/// <remarks>
/// A worker that throws stops the others at their next step, and the exception is rethrown; the
/// center then holds the last completed exchanges (each exchange is atomic).
/// </remarks>
public sealed class ElasticAveragingTrainer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Creates the trainer: <paramref name="setup"/>'s score function gives the initial weights of
    /// the center and every worker; each worker trains its replica with the setup's update.
    /// </summary>
    public ElasticAveragingTrainer(TrainingSetup<T> setup, ElasticAveragingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(setup);
        Setup = setup;
        Options = options ?? new ElasticAveragingOptions();
    }

    /// <summary>Creates the trainer from the parts of a <see cref="TrainingSetup{T}"/>.</summary>
    public ElasticAveragingTrainer(IScoreFunction<T> score, ILoss loss, IRegularizer? regularizer, UpdateChain update, ElasticAveragingOptions? options = null)
        : this(new TrainingSetup<T>(score, loss, regularizer, update), options)
    {
    }

    /// <summary>What is trained and how (each worker has its own rule state).</summary>
    public TrainingSetup<T> Setup { get; }

    /// <summary>The settings.</summary>
    public ElasticAveragingOptions Options { get; }

    /// <summary>
    /// Trains on <paramref name="training"/> with <see cref="ElasticAveragingOptions.Workers"/> workers
    /// and an in-process center variable; the model is the final center. The setup's score function
    /// is not changed.
    /// </summary>
    /// <exception cref="ArgumentException">The data does not fit the score function.</exception>
    /// <exception cref="TrainingDivergedException">A worker's loss or gradient was not finite.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public TrainingResult<T> Train(DataSet<T> training, CancellationToken cancellationToken = default)
    {
        WorkerChecks.Data(training, Setup.Score);
        var center = new InProcessCenterVariable<T>(Setup.Score.Parameters.Select(p => (ReadOnlyMemory<T>)p.Value.Memory));
        return Train(training, center, Math.Min(Options.Workers, training.Count), cancellationToken);
    }

    /// <summary>
    /// Trains with <paramref name="workers"/> workers, one thread each, against any
    /// <paramref name="center"/>; each worker trains a replica of the setup's score function on its
    /// shard of a seeded shuffle of the rows. The model is the center at the end; the result's
    /// <see cref="TrainingResult{T}.Workers"/> are the replicas and its <see cref="TrainingResult{T}.Reports"/> their reports.
    /// </summary>
    /// <exception cref="ArgumentException">The data does not fit the score function.</exception>
    /// <exception cref="TrainingDivergedException">A worker's loss or gradient was not finite.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public TrainingResult<T> Train(DataSet<T> training, ICenterVariable<T> center, int workers, CancellationToken cancellationToken = default)
    {
        WorkerChecks.Data(training, Setup.Score);
        ArgumentNullException.ThrowIfNull(center);
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        var shards = WorkerGroup.Shards(training.Count, workers, Options.Seed);
        var replicas = Enumerable.Range(0, workers).Select(_ => Setup.Score.Clone()).ToArray();
        var reports = WorkerGroup.Run(workers, (w, token) =>
            new ElasticAveragingWorker<T>(Setup with { Score = replicas[w] }, center, w, Options).RunAsync(training, shards[w], null, token),
            cancellationToken);
        var model = Setup.Score.Clone();
        center.ReadAsync([.. model.Parameters.Select(p => p.Value.Memory)], cancellationToken).AsTask().GetAwaiter().GetResult();
        return new TrainingResult<T>(new Classifier<T>(model, Setup.Loss), new TrainingHistory(), replicas) { Reports = reports };
    }
}
