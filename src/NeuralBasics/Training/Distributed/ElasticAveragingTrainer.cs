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
    /// <summary>Creates the trainer; <paramref name="score"/> gives the initial weights of the center and every worker.</summary>
    public ElasticAveragingTrainer(IScoreFunction<T> score, ILoss loss, IRegularizer? regularizer, UpdateRule rule, ElasticAveragingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(score);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(rule);
        if (rule is Newton)
            throw new ArgumentException("Newton's method is full-batch; elastic averaging needs a first-order rule.", nameof(rule));
        Score = score;
        Loss = loss;
        Regularizer = regularizer;
        Rule = rule;
        Options = options ?? new ElasticAveragingOptions();
    }

    /// <summary>The network whose weights start every worker and the center.</summary>
    public IScoreFunction<T> Score { get; }

    /// <summary>The data loss.</summary>
    public ILoss Loss { get; }

    /// <summary>The penalty on weights, or null.</summary>
    public IRegularizer? Regularizer { get; }

    /// <summary>Each worker's local update rule (each has its own state).</summary>
    public UpdateRule Rule { get; }

    /// <summary>The settings.</summary>
    public ElasticAveragingOptions Options { get; }

    /// <summary>Trains on <paramref name="training"/>, split into one shard per worker.</summary>
    /// <exception cref="ArgumentException">The data does not fit the network.</exception>
    public ElasticAveragingResult<T> Train(DataSet<T> training, CancellationToken cancellationToken = default)
    {
        AsynchronousWorkers.CheckData(training, Score);
        var center = new InProcessCenterVariable<T>(Score.Parameters.Select(p => (ReadOnlyMemory<T>)p.Value.Memory));
        return Train(training, center, Math.Min(Options.Workers, training.Count), cancellationToken);
    }

    /// <summary>Trains against a given center variable (another implementation of the exchange).</summary>
    public ElasticAveragingResult<T> Train(DataSet<T> training, ICenterVariable<T> center, int workers, CancellationToken cancellationToken = default)
    {
        AsynchronousWorkers.CheckData(training, Score);
        ArgumentNullException.ThrowIfNull(center);
        var replicas = Enumerable.Range(0, workers).Select(_ => Score.Clone()).ToArray();
        AsynchronousWorkers.Run(training.Count, workers, Options.Seed,
            (worker, shard, token) => RunWorker(training, shard, replicas[worker], center, worker, token), cancellationToken);
        var model = Score.Clone();
        center.Read([.. model.Parameters.Select(p => p.Value.Memory)]);
        return new ElasticAveragingResult<T>(new Classifier<T>(model, Loss), replicas);
    }

    private void RunWorker(DataSet<T> training, int[] shard, IScoreFunction<T> replica, ICenterVariable<T> center, int worker, CancellationToken token)
    {
        var step = new TrainingStep<T>(replica, Loss, Regularizer, Rule);
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
