using System.Numerics;
using System.Numerics.Tensors;
using NeuralBasics.Data;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Scoring;

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
    /// <summary>Creates the trainer; <paramref name="score"/> gives the initial parameters; the server updates with <paramref name="rule"/> (AdaGrad 0.01 when null).</summary>
    public DownpourTrainer(IScoreFunction<T> score, ILoss loss, IRegularizer? regularizer, UpdateRule? rule = null, DownpourOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(score);
        ArgumentNullException.ThrowIfNull(loss);
        if (rule is Newton)
            throw new ArgumentException("Newton's method is full-batch; Downpour needs a first-order rule.", nameof(rule));
        Score = score;
        Loss = loss;
        Regularizer = regularizer;
        Rule = rule ?? new AdaGrad(0.01);
        Options = options ?? new DownpourOptions();
    }

    /// <summary>The network whose weights start the server.</summary>
    public IScoreFunction<T> Score { get; }

    /// <summary>The data loss.</summary>
    public ILoss Loss { get; }

    /// <summary>The penalty on weights, or null.</summary>
    public IRegularizer? Regularizer { get; }

    /// <summary>The server's update rule.</summary>
    public UpdateRule Rule { get; }

    /// <summary>The settings.</summary>
    public DownpourOptions Options { get; }

    /// <summary>Trains on <paramref name="training"/> with an in-process parameter server; returns the server's model.</summary>
    /// <exception cref="ArgumentException">The data does not fit the network.</exception>
    public Classifier<T> Train(DataSet<T> training, CancellationToken cancellationToken = default)
    {
        AsynchronousWorkers.CheckData(training, Score);
        var server = new InProcessParameterServer<T>(Score.Parameters.Select(p => (ReadOnlyMemory<T>)p.Value.Memory), Rule);
        Train(training, server, Math.Min(Options.Workers, training.Count), cancellationToken);
        var model = Score.Clone();
        server.Fetch([.. model.Parameters.Select(p => p.Value.Memory)]);
        return new Classifier<T>(model, Loss);
    }

    /// <summary>Runs the workers against a given parameter server (another implementation of the two messages).</summary>
    public void Train(DataSet<T> training, IParameterServer<T> server, int workers, CancellationToken cancellationToken = default)
    {
        AsynchronousWorkers.CheckData(training, Score);
        ArgumentNullException.ThrowIfNull(server);
        AsynchronousWorkers.Run(training.Count, workers, Options.Seed,
            (worker, shard, token) => RunWorker(training, shard, server, worker, token), cancellationToken);
    }

    private void RunWorker(DataSet<T> training, int[] shard, IParameterServer<T> server, int worker, CancellationToken token)
    {
        var replica = Score.Clone();
        var parameters = replica.Parameters;
        // The local step only computes gradients; its own rule is never applied.
        var step = new TrainingStep<T>(replica, Loss, Regularizer, new Sgd(1.0));
        var accumulated = parameters.Select(p => new T[p.Value.Span.Length]).ToArray();
        var pushes = accumulated.Select(a => (ReadOnlyMemory<T>)a).ToArray();
        var fetches = parameters.Select(p => p.Value.Memory).ToArray();
        long steps = 0;
        int pending = 0;
        server.Fetch(fetches);
        AsynchronousWorkers.ForEachBatch<T>(training, shard, Options.BatchSize, Options.Epochs, Options.Seed, worker, token, (x, y, epoch, batch) =>
        {
            T loss = step.ComputeGradient(x, y.AsSpan());
            if (!T.IsFinite(loss))
                throw new TrainingDivergedException(
                    $"Downpour worker {worker} diverged in epoch {epoch}, batch {batch}: {step.LastProblem}.", new TrainingHistory(), epoch, batch, step.LastProblem!);
            for (int k = 0; k < parameters.Count; k++)
                TensorPrimitives.Add(accumulated[k], parameters[k].Gradient.Span, accumulated[k]);
            steps++;
            if (++pending == Options.PushEvery)
            {
                server.Push(pushes);
                foreach (var a in accumulated)
                    Array.Clear(a);
                pending = 0;
            }
            if (steps % Options.FetchEvery == 0)
                server.Fetch(fetches);
        });
        if (pending > 0)
            server.Push(pushes);
    }
}
