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

    /// <summary>Trains on <paramref name="training"/> with an in-process parameter server; returns the server's model.</summary>
    /// <exception cref="ArgumentException">The data does not fit the network.</exception>
    public TrainingResult<T> Train(DataSet<T> training, CancellationToken cancellationToken = default)
    {
        AsynchronousWorkers.CheckData(training, Setup.Score);
        var server = new InProcessParameterServer<T>(Setup.Score.Parameters.Select(p => (ReadOnlyMemory<T>)p.Value.Memory), Setup.Update.Rule);
        Train(training, server, Math.Min(Options.Workers, training.Count), cancellationToken);
        var model = Setup.Score.Clone();
        server.Fetch([.. model.Parameters.Select(p => p.Value.Memory)]);
        return new TrainingResult<T>(new Classifier<T>(model, Setup.Loss), new TrainingHistory());
    }

    /// <summary>Runs the workers against a given parameter server (another implementation of the two messages).</summary>
    public void Train(DataSet<T> training, IParameterServer<T> server, int workers, CancellationToken cancellationToken = default)
    {
        AsynchronousWorkers.CheckData(training, Setup.Score);
        ArgumentNullException.ThrowIfNull(server);
        AsynchronousWorkers.Run(training.Count, workers, Options.Seed,
            (worker, shard, token) => RunWorker(training, shard, server, worker, token), cancellationToken);
    }

    private void RunWorker(DataSet<T> training, int[] shard, IParameterServer<T> server, int worker, CancellationToken token)
    {
        var replica = Setup.Score.Clone();
        var parameters = replica.Parameters;
        var gradient = GradientComputation<T>.Create(replica, Setup.Loss, Setup.Regularizer);
        var accumulated = parameters.Select(p => new T[p.Value.Span.Length]).ToArray();
        var pushes = accumulated.Select(a => (ReadOnlyMemory<T>)a).ToArray();
        var fetches = parameters.Select(p => p.Value.Memory).ToArray();
        long steps = 0;
        int pending = 0;
        server.Fetch(fetches);
        AsynchronousWorkers.ForEachBatch<T>(training, shard, Options.BatchSize, Options.Epochs, Options.Seed, worker, token, (x, y, epoch, batch) =>
        {
            T loss = gradient.Compute(x, y.AsSpan());
            if (!T.IsFinite(loss))
                throw new TrainingDivergedException(
                    $"Downpour worker {worker} diverged in epoch {epoch}, batch {batch}: {gradient.LastProblem}.", new TrainingHistory(), epoch, batch, gradient.LastProblem!);
            foreach (var transform in Setup.Update.Transforms)
                transform.Apply(parameters, gradient.LastGradientNorm);
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
