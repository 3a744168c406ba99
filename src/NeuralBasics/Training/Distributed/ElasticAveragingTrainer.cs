using System.Numerics;
using NeuralBasics.Data;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Scoring;

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

    /// <summary>Trains on <paramref name="training"/>, split into one shard per worker; the model is the center variable.</summary>
    /// <exception cref="ArgumentException">The data does not fit the network.</exception>
    public TrainingResult<T> Train(DataSet<T> training, CancellationToken cancellationToken = default)
    {
        AsynchronousWorkers.CheckData(training, Setup.Score);
        var center = new InProcessCenterVariable<T>(Setup.Score.Parameters.Select(p => (ReadOnlyMemory<T>)p.Value.Memory));
        return Train(training, center, Math.Min(Options.Workers, training.Count), cancellationToken);
    }

    /// <summary>Trains against a given center variable (another implementation of the exchange).</summary>
    public TrainingResult<T> Train(DataSet<T> training, ICenterVariable<T> center, int workers, CancellationToken cancellationToken = default)
    {
        AsynchronousWorkers.CheckData(training, Setup.Score);
        ArgumentNullException.ThrowIfNull(center);
        var replicas = Enumerable.Range(0, workers).Select(_ => Setup.Score.Clone()).ToArray();
        AsynchronousWorkers.Run(training.Count, workers, Options.Seed,
            (worker, shard, token) => RunWorker(training, shard, replicas[worker], center, worker, token), cancellationToken);
        var model = Setup.Score.Clone();
        center.Read([.. model.Parameters.Select(p => p.Value.Memory)]);
        return new TrainingResult<T>(new Classifier<T>(model, Setup.Loss), new TrainingHistory(), replicas);
    }

    private void RunWorker(DataSet<T> training, int[] shard, IScoreFunction<T> replica, ICenterVariable<T> center, int worker, CancellationToken token)
    {
        var step = new TrainingStep<T>(Setup with { Score = replica });
        T alpha = T.CreateChecked(Options.Alpha);
        var parameters = replica.Parameters;
        long steps = 0;
        AsynchronousWorkers.ForEachBatch<T>(training, shard, Options.BatchSize, Options.Epochs, Options.Seed, worker, token, (x, y, epoch, batch) =>
        {
            T loss = step.Run(x, y.AsSpan());
            if (!T.IsFinite(loss))
                throw new TrainingDivergedException(
                    $"EASGD worker {worker} diverged in epoch {epoch}, batch {batch}: {step.LastProblem}.", new TrainingHistory(), epoch, batch, step.LastProblem!);
            if (++steps % Options.Tau == 0 && Options.Alpha > 0)
                for (int k = 0; k < parameters.Count; k++)
                    center.Exchange(k, parameters[k].Value.Span, alpha);
        });
    }
}
