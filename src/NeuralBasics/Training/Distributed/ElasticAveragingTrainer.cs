using System.Numerics;
using System.Runtime.ExceptionServices;
using NeuralBasics.Data;
using NeuralBasics.Kernels;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Scoring;

namespace NeuralBasics.Training.Distributed;

/// <summary>Settings of elastic averaging SGD.</summary>
public sealed record ElasticAveragingOptions
{
    private readonly int _workers = 2, _tau = 4, _epochs = 10, _batchSize = 64;
    private readonly double _alpha = 0.2;

    /// <summary>Workers, each on its own thread and its own shard of the data (default 2).</summary>
    public int Workers { get => _workers; init => _workers = Guard.AtLeast(value, 1, "The number of workers", nameof(Workers)); }

    /// <summary>τ: local steps between elastic exchanges (default 4).</summary>
    public int Tau { get => _tau; init => _tau = Guard.AtLeast(value, 1, "τ", nameof(Tau)); }

    /// <summary>α: the elastic force, in [0, 1] (default 0.2; 0 leaves the workers independent).</summary>
    public double Alpha
    {
        get => _alpha;
        init => _alpha = value >= 0 && value <= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Alpha), value, "α must be in [0, 1].");
    }

    /// <summary>Passes of each worker over its shard (default 10).</summary>
    public int Epochs { get => _epochs; init => _epochs = Guard.AtLeast(value, 1, "The number of epochs", nameof(Epochs)); }

    /// <summary>Samples per local step (default 64).</summary>
    public int BatchSize { get => _batchSize; init => _batchSize = Guard.AtLeast(value, 1, "The batch size", nameof(BatchSize)); }

    /// <summary>The seed of the shard assignment and of each worker's shuffling.</summary>
    public int Seed { get; init; }
}

/// <summary>The outcome of elastic averaging: the model from the center variable, and each worker's final network.</summary>
public sealed record ElasticAveragingResult<T>(Classifier<T> Model, IReadOnlyList<IScoreFunction<T>> Workers)
    where T : unmanaged, IFloatingPointIeee754<T>;

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
        ArgumentNullException.ThrowIfNull(training);
        if (training.FeatureCount != Score.InputCount || training.ClassCount != Score.ClassCount)
            throw new ArgumentException(
                $"The data has {training.FeatureCount} features and {training.ClassCount} classes but {Score} takes {Score.InputCount} and scores {Score.ClassCount}.",
                nameof(training));
        int workers = Math.Min(Options.Workers, training.Count);
        var center = new InProcessCenterVariable<T>(Score.Parameters.Select(p => (ReadOnlyMemory<T>)p.Value.Memory));
        return Train(training, center, workers, cancellationToken);
    }

    /// <summary>Trains against a given center variable (another implementation of the exchange).</summary>
    public ElasticAveragingResult<T> Train(DataSet<T> training, ICenterVariable<T> center, int workers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(center);
        var order = Enumerable.Range(0, training.Count).ToArray();
        new Random(Options.Seed).Shuffle(order);
        var replicas = Enumerable.Range(0, workers).Select(_ => Score.Clone()).ToArray();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ExceptionDispatchInfo? failure = null;
        var threads = new Thread[workers];
        for (int w = 0; w < workers; w++)
        {
            int worker = w;
            int start = (int)((long)training.Count * worker / workers), end = (int)((long)training.Count * (worker + 1) / workers);
            threads[w] = new Thread(() =>
            {
                try
                {
                    RunWorker(training, order.AsSpan(start, end - start).ToArray(), replicas[worker], center, worker, stop.Token);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null);
                    stop.Cancel();
                }
            }) { IsBackground = true, Name = $"EASGD worker {worker}" };
            threads[w].Start();
        }
        foreach (var thread in threads)
            thread.Join();
        failure?.Throw();
        cancellationToken.ThrowIfCancellationRequested();

        var model = Score.Clone();
        center.Read([.. model.Parameters.Select(p => p.Value.Memory)]);
        return new ElasticAveragingResult<T>(new Classifier<T>(model, Loss), replicas);
    }

    private void RunWorker(DataSet<T> training, int[] shard, IScoreFunction<T> replica, ICenterVariable<T> center, int worker, CancellationToken token)
    {
        var step = new TrainingStep<T>(replica, Loss, Regularizer, Rule);
        var random = new Random(unchecked(Options.Seed * 7919 + worker));
        int batch = Math.Min(Options.BatchSize, shard.Length);
        var batchX = new Matrix<T>(batch, training.FeatureCount);
        var batchY = new int[batch];
        T alpha = T.CreateChecked(Options.Alpha);
        var parameters = replica.Parameters;
        long steps = 0;
        for (int epoch = 0; epoch < Options.Epochs; epoch++)
        {
            random.Shuffle(shard);
            for (int s = 0; s < shard.Length; s += batch)
            {
                token.ThrowIfCancellationRequested();
                int size = Math.Min(batch, shard.Length - s);
                var rows = shard.AsSpan(s, size);
                RowOps.GatherRows(training.Features.AsReadOnlySpan(), rows, batchX.AsSpan().SliceRows(0, size));
                for (int r = 0; r < size; r++)
                    batchY[r] = training.Labels[rows[r]];
                T loss = step.Run(batchX.AsReadOnlySpan().SliceRows(0, size), batchY.AsSpan(0, size));
                if (!T.IsFinite(loss))
                    throw new TrainingDivergedException(
                        $"EASGD worker {worker} diverged in epoch {epoch + 1}: {step.LastProblem}.", new TrainingHistory(), epoch + 1, s / batch + 1, step.LastProblem!);
                if (++steps % Options.Tau == 0 && Options.Alpha > 0)
                    for (int k = 0; k < parameters.Count; k++)
                        center.Exchange(k, parameters[k].Value.Span, alpha);
            }
        }
    }
}
