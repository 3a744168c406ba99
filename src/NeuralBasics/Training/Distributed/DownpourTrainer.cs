using System.Numerics;
using NeuralBasics.Data;
using NeuralBasics.Losses;
using NeuralBasics.Models;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;

namespace NeuralBasics.Training.Distributed;

/// <summary>
/// Downpour SGD (Dean et al., 2012, "Large Scale Distributed Deep Networks"): asynchronous workers,
/// each on its own shard of the data, fetch the parameters from a parameter server every n_fetch
/// steps, compute gradients on their (possibly stale) copy, and push the sum of their gradients
/// every n_push steps; the server applies any update rule to each push as it arrives (AdaGrad, as in
/// the paper, by default). Workers never wait for each other.
/// </summary>
/// <remarks>
/// A worker that throws stops the others at their next step and its exception is rethrown; the
/// server holds the updates of the pushes completed before (each push is applied under a lock).
/// </remarks>
public sealed class DownpourTrainer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Creates the trainer: <paramref name="setup"/>'s score function gives the initial parameters,
    /// its update's rule is the server's (its gradient transforms run on each worker's gradient
    /// before it is added to the push).
    /// </summary>
    public DownpourTrainer(TrainingSetup<T> setup, DownpourOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(setup);
        Setup = setup;
        Options = options ?? new DownpourOptions();
    }

    /// <summary>Creates the trainer from the parts of a <see cref="TrainingSetup{T}"/>.</summary>
    public DownpourTrainer(IScoreFunction<T> score, ILoss loss, IRegularizer? regularizer, UpdateChain update, DownpourOptions? options = null)
        : this(new TrainingSetup<T>(score, loss, regularizer, update), options)
    {
    }

    /// <summary>What is trained and how; the update's rule runs on the server (AdaGrad, as in the paper, is a good default).</summary>
    public TrainingSetup<T> Setup { get; }

    /// <summary>The settings.</summary>
    public DownpourOptions Options { get; }

    /// <summary>
    /// Trains on <paramref name="training"/> with <see cref="DownpourOptions.Workers"/> workers and an
    /// in-process parameter server (with <see cref="DownpourOptions.Staleness"/>); the model is the
    /// server's final parameters. The setup's score function is not changed.
    /// </summary>
    /// <exception cref="ArgumentException">The data does not fit the score function.</exception>
    /// <exception cref="TrainingDivergedException">A worker's gradient was not finite.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public TrainingResult<T> Train(DataSet<T> training, CancellationToken cancellationToken = default)
    {
        WorkerChecks.Data(training, Setup.Score);
        var initial = Setup.Score.Parameters.Select(p => (ReadOnlyMemory<T>)p.Value.Memory).ToList();
        IParameterServer<T> server = Options.Shards == 1
            ? new InProcessParameterServer<T>(initial, Setup.Update.Rule, Options.Staleness)
            : ShardedParameterServer<T>.Create(initial, ShardedParameterServer<T>.ByRange([.. initial.Select(t => t.Length)], Options.Shards),
                part => new InProcessParameterServer<T>(part, Setup.Update.Rule, Options.Staleness));
        var reports = Train(training, server, Math.Min(Options.Workers, training.Count), cancellationToken);
        var model = Setup.Score.Clone();
        server.FetchAsync(new MessageStamp(0, 1), [.. model.Parameters.Select(p => p.Value.Memory)], cancellationToken).AsTask().GetAwaiter().GetResult();
        return new TrainingResult<T>(new Classifier<T>(model, Setup.Loss), new TrainingHistory()) { Reports = reports };
    }

    /// <summary>
    /// Trains with <paramref name="workers"/> workers, one thread each, against any
    /// <paramref name="server"/>; each worker trains a replica of the setup's score function on its
    /// shard of a seeded shuffle of the rows. Returns each worker's report.
    /// </summary>
    /// <exception cref="ArgumentException">The data does not fit the score function.</exception>
    /// <exception cref="TrainingDivergedException">A worker's gradient was not finite.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public IReadOnlyList<WorkerReport> Train(DataSet<T> training, IParameterServer<T> server, int workers, CancellationToken cancellationToken = default)
    {
        WorkerChecks.Data(training, Setup.Score);
        ArgumentNullException.ThrowIfNull(server);
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        var shards = WorkerGroup.Shards(training.Count, workers, Options.Seed);
        return WorkerGroup.Run(workers, (w, token) =>
            new DownpourWorker<T>(Setup with { Score = Setup.Score.Clone() }, server, w, Options).RunAsync(training, shards[w], null, token),
            cancellationToken);
    }
}
