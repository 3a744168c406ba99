using System.Diagnostics;
using System.Numerics;
using System.Numerics.Tensors;
using NeuralBasics.Data;
using NeuralBasics.Kernels;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Scoring;

namespace NeuralBasics.Training;

/// <summary>
/// Trains a score function by mini-batch gradient descent on
/// <c>L = (1/N) Σ_i L_i(f(x_i; θ), y_i) + R(W)</c>: for each batch, forward pass, loss and its
/// gradient, backward pass, regularization gradient on the weights (never the biases), then one
/// update-rule step per parameter tensor.
/// </summary>
/// <remarks>
/// The score function passed in is trained in place; the returned <see cref="Classifier{T}"/> is a
/// frozen copy. Batch buffers are allocated once per run, so a warm training step allocates
/// nothing. A loss or gradient that stops being finite ends the run with
/// <see cref="TrainingDivergedException"/>, the score function rolled back to the last good epoch.
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
public sealed class Trainer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates a trainer for <paramref name="score"/>.</summary>
    /// <param name="score">The score function to train (in place).</param>
    /// <param name="loss">The data loss.</param>
    /// <param name="regularizer">The penalty on weights; null means none.</param>
    /// <param name="rule">The update rule.</param>
    /// <param name="options">Epochs, batch size, shuffling and seed; null means the defaults.</param>
    public Trainer(IScoreFunction<T> score, ILoss loss, IRegularizer? regularizer, UpdateRule rule, TrainerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(score);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(rule);
        Score = score;
        Loss = loss;
        Regularizer = regularizer ?? NoRegularization.Instance;
        Rule = rule;
        Options = options ?? new TrainerOptions();
    }

    /// <summary>The score function being trained.</summary>
    public IScoreFunction<T> Score { get; }

    /// <summary>The data loss.</summary>
    public ILoss Loss { get; }

    /// <summary>The penalty on weights.</summary>
    public IRegularizer Regularizer { get; }

    /// <summary>The update rule.</summary>
    public UpdateRule Rule { get; }

    /// <summary>The run settings.</summary>
    public TrainerOptions Options { get; }

    /// <summary>
    /// Trains for <see cref="TrainerOptions.Epochs"/> epochs on <paramref name="training"/>,
    /// measuring loss and accuracy on <paramref name="validation"/> after each epoch when given.
    /// </summary>
    /// <param name="training">The training data.</param>
    /// <param name="validation">Optional held-out data (early stopping needs it).</param>
    /// <param name="progress">Receives each epoch's result as it completes.</param>
    /// <param name="batchProgress">Receives every mini-batch's loss, accuracy and speed.</param>
    /// <param name="cancellationToken">Checked between mini-batches; the score function then holds the weights of the last step taken.</param>
    /// <exception cref="ArgumentException">The data's feature or class count does not match the score function, or early stopping has no validation set; nothing is changed.</exception>
    /// <exception cref="TrainingDivergedException">The loss or gradient became NaN or infinite.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    /// <remarks>
    /// With <see cref="Newton"/> the run is full-batch: each epoch is one Newton iteration on the
    /// whole training set, and it ends early once the gradient norm is below the rule's tolerance.
    /// </remarks>
    public TrainingResult<T> Train(DataSet<T> training, DataSet<T>? validation = null,
        IProgress<EpochResult>? progress = null, IProgress<BatchResult>? batchProgress = null, CancellationToken cancellationToken = default) =>
        Run(training, validation, progress, batchProgress, resumeFrom: null, cancellationToken);

    /// <summary>
    /// Continues a run from the checkpoint at <paramref name="checkpointPath"/> (written with
    /// <see cref="TrainerOptions.CheckpointPath"/>): weights, optimizer state, schedule position,
    /// shuffling state, history and early-stopping state are restored, then training goes on to
    /// <see cref="TrainerOptions.Epochs"/>. With the same data and options the final weights equal
    /// those of an uninterrupted run, bit for bit.
    /// </summary>
    /// <exception cref="InvalidDataException">The checkpoint is damaged, or is for another network, rule or element type; nothing is changed.</exception>
    public TrainingResult<T> Resume(string checkpointPath, DataSet<T> training, DataSet<T>? validation = null,
        IProgress<EpochResult>? progress = null, IProgress<BatchResult>? batchProgress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpointPath);
        return Run(training, validation, progress, batchProgress, checkpointPath, cancellationToken);
    }

    private TrainingResult<T> Run(DataSet<T> training, DataSet<T>? validation, IProgress<EpochResult>? progress,
        IProgress<BatchResult>? batchProgress, string? resumeFrom, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(training);
        CheckData(training, nameof(training));
        if (validation is not null)
            CheckData(validation, nameof(validation));
        if (Options.EarlyStopping is not null && validation is null)
            throw new ArgumentException("Early stopping watches a validation metric: pass a validation set.", nameof(validation));

        if (Rule is Newton newton)
        {
            if (resumeFrom is not null)
                throw new NotSupportedException("Newton's method converges in a few full-batch iterations; it has no checkpoints to resume.");
            return TrainNewton(newton, training, validation, progress, cancellationToken);
        }

        var parameters = Score.Parameters;
        var step = new TrainingStep<T>(Score, Loss, Regularizer, Rule, Options.Workers) { ClipGradientNorm = Options.ClipGradientNorm };
        var history = new TrainingHistory();
        var random = new ShuffleRandom(unchecked((ulong)Options.Seed));
        int firstEpoch = 1;
        T[][]? best = null;
        double bestMetric = double.NaN;
        int? bestEpoch = null;
        int withoutImprovement = 0;
        int n = training.Count, d = training.FeatureCount, c = Score.ClassCount;
        int batch = Math.Min(Options.BatchSize, n);
        int batchCount = (n + batch - 1) / batch;
        if (resumeFrom is not null)
        {
            var (saved, savedBest) = Serialization.CheckpointFile.Load(resumeFrom, parameters, step.States, Rule, Options.Epochs, batchCount);
            foreach (var epochResult in saved.History)
                history.Add(epochResult);
            random = new ShuffleRandom(saved.RandomState);
            firstEpoch = saved.Epoch + 1;
            best = savedBest;
            bestEpoch = saved.BestEpoch;
            bestMetric = saved.BestMetric;
            withoutImprovement = saved.EpochsWithoutImprovement;
        }

        var lastGood = new T[parameters.Count][];
        for (int k = 0; k < parameters.Count; k++)
            lastGood[k] = parameters[k].Value.Span.ToArray();

        var batchX = new Matrix<T>(batch, d);
        var batchY = new int[batch];
        var order = new int[n];
        var trainingFeatures = training.Features.AsReadOnlySpan();
        DataSetEvaluator<T>? evaluator = validation is not null || Options.EvaluateTrainingSet ? new(Score, Loss) : null;

        for (int epoch = firstEpoch; epoch <= Options.Epochs; epoch++)
        {
            long started = Stopwatch.GetTimestamp();
            double lossSum = 0;
            long correct = 0, measured = 0;
            // A fresh permutation each epoch from the generator alone, so its state is all a checkpoint needs.
            for (int i = 0; i < n; i++)
                order[i] = i;
            if (Options.Shuffle)
                random.Shuffle(order);

            for (int start = 0, batchIndex = 1; start < n; start += batch, batchIndex++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                long batchStarted = Stopwatch.GetTimestamp();
                int size = Math.Min(batch, n - start);
                var rows = order.AsSpan(start, size);
                RowOps.GatherRows(trainingFeatures, rows, batchX.AsSpan().SliceRows(0, size));
                for (int r = 0; r < size; r++)
                    batchY[r] = training.Labels[rows[r]];
                T dataLoss = step.Run(batchX.AsReadOnlySpan().SliceRows(0, size), batchY.AsSpan(0, size));
                if (!T.IsFinite(dataLoss))
                {
                    // The step changed nothing: skip the batch, or stop with the last good weights.
                    if (Options.SkipNonFiniteBatches)
                    {
                        history.SkippedBatches++;
                        continue;
                    }
                    Diverge(parameters, lastGood, history, epoch, batchIndex, step.LastProblem!);
                }
                // The running metrics: this batch's loss and accuracy under the weights before its step.
                int batchCorrect = step.LastBatchCorrect(batchY.AsSpan(0, size));
                lossSum += double.CreateChecked(dataLoss) * size;
                correct += batchCorrect;
                measured += size;
                if (batchProgress is not null)
                {
                    double seconds = Stopwatch.GetElapsedTime(batchStarted).TotalSeconds;
                    batchProgress.Report(new BatchResult(epoch, batchIndex, batchCount, double.CreateChecked(dataLoss),
                        (double)batchCorrect / size, seconds > 0 ? size / seconds : 0));
                }
            }

            var duration = Stopwatch.GetElapsedTime(started);
            // The last step's update is checked here: no later batch's loss will see it.
            foreach (var p in parameters)
                if (!TensorPrimitives.IsFiniteAll<T>(p.Value.Span))
                    Diverge(parameters, lastGood, history, epoch, null, $"{p.Name} holds a non-finite value after the epoch's last step");
            // Running figures unless asked for the full set, or every batch was skipped and there are none.
            var result = (Options.EvaluateTrainingSet || measured == 0
                    ? Evaluate(epoch, training, validation, evaluator ??= new(Score, Loss))
                    : Evaluate(epoch, (lossSum / measured, (double)correct / measured), validation, evaluator)) with
            {
                Duration = duration,
                SamplesPerSecond = duration > TimeSpan.Zero ? n / duration.TotalSeconds : 0,
            };
            if (!double.IsFinite(result.TotalLoss))
                Diverge(parameters, lastGood, history, epoch, null, $"the loss after the epoch is {result.TotalLoss}");
            history.Add(result);
            for (int k = 0; k < parameters.Count; k++)
                parameters[k].Value.Span.CopyTo(lastGood[k]);

            bool stop = false;
            if (Options.EarlyStopping is { } early)
            {
                double metric = early.Metric == EarlyStoppingMetric.ValidationLoss ? result.ValidationLoss!.Value : result.ValidationAccuracy!.Value;
                bool improved = bestEpoch is null || (early.Metric == EarlyStoppingMetric.ValidationLoss
                    ? metric < bestMetric - early.MinDelta
                    : metric > bestMetric + early.MinDelta);
                if (improved)
                {
                    best ??= [.. parameters.Select(p => new T[p.Value.Span.Length])];
                    for (int k = 0; k < parameters.Count; k++)
                        parameters[k].Value.Span.CopyTo(best[k]);
                    bestMetric = metric;
                    bestEpoch = epoch;
                    withoutImprovement = 0;
                }
                else
                {
                    stop = ++withoutImprovement >= early.Patience;
                }
            }

            if (Options.CheckpointPath is { } checkpointPath)
            {
                var saved = new Serialization.CheckpointProgress
                {
                    Epoch = epoch, RandomState = random.State, History = [.. history.Epochs],
                    BestEpoch = bestEpoch, BestMetric = bestMetric, EpochsWithoutImprovement = withoutImprovement,
                };
                Serialization.CheckpointFile.Save(checkpointPath, parameters, step.States, Rule, saved, best);
            }
            progress?.Report(result);
            if (stop)
            {
                history.StoppedEarly = epoch < Options.Epochs;
                break;
            }
        }

        if (Options.EarlyStopping is not null && best is not null)
        {
            for (int k = 0; k < parameters.Count; k++)
                best[k].CopyTo(parameters[k].Value.Span);
            history.BestEpoch = bestEpoch;
        }
        return new TrainingResult<T>(new Classifier<T>(Score, Loss), history);
    }

    /// <summary>
    /// Newton's method: full batch, one iteration per epoch, stopping early once the gradient norm
    /// is below the rule's tolerance (the history then ends at that epoch).
    /// </summary>
    private TrainingResult<T> TrainNewton(Newton newton, DataSet<T> training, DataSet<T>? validation,
        IProgress<EpochResult>? progress, CancellationToken cancellationToken)
    {
        var solver = newton.CreateSolver(Score, Loss, Regularizer, training);
        var history = new TrainingHistory();
        var evaluator = new DataSetEvaluator<T>(Score, Loss);
        for (int iteration = 1; iteration <= Options.Epochs; iteration++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long started = Stopwatch.GetTimestamp();
            var (_, converged) = solver.Iterate();
            if (converged && iteration > 1)
                break;
            var duration = Stopwatch.GetElapsedTime(started);
            var result = Evaluate(iteration, training, validation, evaluator) with { Duration = duration };
            history.Add(result);
            progress?.Report(result);
            if (converged)
                break;
        }
        return new TrainingResult<T>(new Classifier<T>(Score, Loss), history);
    }

    private void CheckData(DataSet<T> data, string name)
    {
        if (data.FeatureCount != Score.InputCount)
            throw new ArgumentException(
                $"The {name} data has {data.FeatureCount} features but {Score} expects {Score.InputCount}.", name);
        if (data.ClassCount != Score.ClassCount)
            throw new ArgumentException(
                $"The {name} data has {data.ClassCount} classes but {Score} scores {Score.ClassCount}.", name);
    }

    /// <summary>Full-set loss and accuracy of the training (and validation) set with the current weights.</summary>
    private EpochResult Evaluate(int epoch, DataSet<T> training, DataSet<T>? validation, DataSetEvaluator<T> evaluator) =>
        Evaluate(epoch, evaluator.Evaluate(training), validation, evaluator);

    /// <summary>The epoch's result from its training figures, the penalty now and the validation set's figures.</summary>
    private EpochResult Evaluate(int epoch, (double Loss, double Accuracy) training, DataSet<T>? validation, DataSetEvaluator<T>? evaluator)
    {
        double penalty = 0;
        foreach (var p in Score.Parameters)
            if (p.IsRegularized)
                penalty += double.CreateChecked(Regularizer.Penalty<T>(p.Value.Span));
        (double Loss, double Accuracy)? held = validation is null ? null : evaluator!.Evaluate(validation);
        return new EpochResult(epoch, training.Loss, penalty, training.Accuracy, held?.Accuracy, ValidationLoss: held?.Loss);
    }

    private static void Diverge(IReadOnlyList<Parameter<T>> parameters, T[][] lastGood, TrainingHistory history, int epoch, int? batch, string problem)
    {
        for (int k = 0; k < parameters.Count; k++)
            lastGood[k].CopyTo(parameters[k].Value.Span);
        int epochs = history.Epochs.Count;
        string where = batch is { } b ? $"epoch {epoch}, batch {b}" : $"epoch {epoch}";
        throw new TrainingDivergedException(
            $"Training diverged in {where}: {problem}. The weights were rolled back to " +
            (epochs == 0 ? "their initial values" : $"the end of epoch {epochs}") +
            ". Try a smaller learning rate, or standardize the features.", history, epoch, batch, problem);
    }
}
