using System.Diagnostics;
using System.Numerics.Tensors;
using System.Numerics;
using NeuralBasics.Data;
using NeuralBasics.Diagnostics;
using NeuralBasics.Evaluation;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Models;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;

namespace NeuralBasics.Training;

/// <summary>
/// Trains a score function by mini-batch gradient descent on
/// <c>L = (1/N) Σ_i L_i(f(x_i; θ), y_i) + R(W)</c>: epoch after epoch, the shuffled training set
/// in mini-batches, one <see cref="TrainingStep{T}"/> each, then the epoch's figures, early
/// stopping and a checkpoint.
/// </summary>
/// <remarks>
/// The score function is trained in place; the returned <see cref="Classifier{T}"/> is a frozen
/// copy. A warm training step allocates nothing. A loss or gradient that stops being finite ends
/// the run with <see cref="TrainingDivergedException"/>, the score function rolled back to the last
/// good epoch. Newton's method, which needs the whole batch at once, is <see cref="NewtonMethod"/>.
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
public sealed class Trainer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates a trainer for <paramref name="setup"/>.</summary>
    /// <param name="setup">What is trained and how.</param>
    /// <param name="options">Epochs, batch size, shuffling and seed; null means the defaults.</param>
    public Trainer(TrainingSetup<T> setup, TrainerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(setup);
        Setup = setup;
        Options = options ?? new TrainerOptions();
    }

    /// <summary>Creates a trainer for <paramref name="score"/>.</summary>
    /// <param name="score">The score function to train (in place).</param>
    /// <param name="loss">The data loss.</param>
    /// <param name="regularizer">The penalty on weights; null means none.</param>
    /// <param name="update">The update rule, or gradient transforms and a rule.</param>
    /// <param name="options">Epochs, batch size, shuffling and seed; null means the defaults.</param>
    public Trainer(IScoreFunction<T> score, ILoss loss, IRegularizer? regularizer, UpdateChain update, TrainerOptions? options = null)
        : this(new TrainingSetup<T>(score, loss, regularizer, update), options)
    {
    }

    /// <summary>1 while <see cref="Train"/> or <see cref="Resume"/> runs: a second call meanwhile is refused.</summary>
    private int _running;

    /// <summary>What is trained and how.</summary>
    public TrainingSetup<T> Setup { get; }

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
    /// <exception cref="InvalidOperationException">This trainer is already running <see cref="Train"/> or <see cref="Resume"/> on another thread.</exception>
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
    /// <exception cref="InvalidDataException">
    /// The checkpoint is damaged, is for another network, rule or element type, is past the run's
    /// epochs, or was written by a run with other settings (the rule's hyperparameters, the loss,
    /// regularizer, transforms, batch size, seed, workers, policies: every difference is named) and
    /// <see cref="TrainerOptions.AllowChangedSettingsOnResume"/> is not set; nothing is changed.
    /// </exception>
    /// <exception cref="InvalidOperationException">This trainer is already running <see cref="Train"/> or <see cref="Resume"/> on another thread.</exception>
    public TrainingResult<T> Resume(string checkpointPath, DataSet<T> training, DataSet<T>? validation = null,
        IProgress<EpochResult>? progress = null, IProgress<BatchResult>? batchProgress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpointPath);
        return Run(training, validation, progress, batchProgress, checkpointPath, cancellationToken);
    }

    /// <summary>The epoch loop: everything it carries between epochs is the <see cref="TrainingState{T}"/> a checkpoint holds.</summary>
    private TrainingResult<T> Run(DataSet<T> training, DataSet<T>? validation, IProgress<EpochResult>? progress,
        IProgress<BatchResult>? batchProgress, string? resumeFrom, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _running, 1) != 0)
            throw new InvalidOperationException(
                "This trainer is already training: two runs at once would race on one network's weights and its rule's state. Wait for the first, or give each run its own trainer and network.");
        try
        {
            return RunAlone(training, validation, progress, batchProgress, resumeFrom, cancellationToken);
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    private TrainingResult<T> RunAlone(DataSet<T> training, DataSet<T>? validation, IProgress<EpochResult>? progress,
        IProgress<BatchResult>? batchProgress, string? resumeFrom, CancellationToken cancellationToken)
    {
        CheckData(training, validation);
        var parameters = Setup.Score.Parameters;
        var settings = RunSettings.Describe(Setup, Options);
        var step = new TrainingStep<T>(Setup, Options.Workers);
        // What a checkpoint saves of the chain: the rule's state of every tensor, then the states the
        // transforms keep, transform by transform (each counts the same steps).
        UpdateState[] states = [.. step.States, .. step.TransformStates.SelectMany(s => s).OfType<UpdateState>()];
        int batchesPerEpoch = (training.Count + Math.Min(Options.BatchSize, training.Count) - 1) / Math.Min(Options.BatchSize, training.Count);
        var state = resumeFrom is null
            ? TrainingState<T>.Start(Options.Seed)
            : CheckpointFile.Load(resumeFrom, parameters, states, Setup.Update.Rule, Options.Epochs, batchesPerEpoch,
                settings, Options.AllowChangedSettingsOnResume);
        // Created after a resume's weights are in place: they are the first "last good" weights.
        var epochs = new EpochRunner(this, step, training, validation, batchProgress, cancellationToken);

        for (int epoch = state.Epoch + 1; epoch <= Options.Epochs; epoch++)
        {
            step.LearningRateScale = state.Plateau.Scale;
            var result = epochs.Run(epoch, state) with { LearningRateScale = state.Plateau.Scale };
            state.History.Add(result);
            state.Epoch = epoch;
            bool stop = Options.EarlyStopping is { } early && state.EarlyStopping.Record(early, result, parameters);
            if (Options.ReduceOnPlateau is { } plateau)
                state.Plateau.Record(plateau, result.ValidationLoss ?? result.TotalLoss);
            if (Options.CheckpointPath is { } path)
                CheckpointFile.Save(path, parameters, states, Setup.Update.Rule, state, settings);
            progress?.Report(result);
            if (stop)
            {
                state.History.StoppedEarly = epoch < Options.Epochs;
                break;
            }
        }
        state.EarlyStopping.RestoreBest(parameters, state.History);
        return new TrainingResult<T>(new Classifier<T>(Setup.Score, Setup.Loss), state.History);
    }

    private void CheckData(DataSet<T> training, DataSet<T>? validation)
    {
        ArgumentNullException.ThrowIfNull(training);
        CheckData(training, nameof(training));
        if (validation is not null)
            CheckData(validation, nameof(validation));
        if (Options.EarlyStopping is not null && validation is null)
            throw new ArgumentException("Early stopping watches a validation metric: pass a validation set.", nameof(validation));
    }

    private void CheckData(DataSet<T> data, string name)
    {
        var score = Setup.Score;
        if (data.FeatureCount != score.InputCount)
            throw new ArgumentException($"The {name} data has {data.FeatureCount} features but {score} expects {score.InputCount}.", name);
        if (data.ClassCount != score.ClassCount)
            throw new ArgumentException($"The {name} data has {data.ClassCount} classes but {score} scores {score.ClassCount}.", name);
    }

    /// <summary>
    /// One epoch: the batch loop with its running figures and divergence handling, then the
    /// epoch's result (validation set, penalty). It keeps the batch buffers and the last good
    /// weights from one epoch to the next.
    /// </summary>
    private sealed class EpochRunner
    {
        private readonly Trainer<T> _trainer;
        private readonly TrainingStep<T> _step;
        private readonly DataSet<T> _training;
        private readonly DataSet<T>? _validation;
        private readonly IProgress<BatchResult>? _batchProgress;
        private readonly CancellationToken _cancellationToken;
        private readonly int _batch;
        private readonly Matrix<T> _batchX;
        private readonly int[] _batchY, _order;
        private readonly T[][] _lastGood;
        private readonly T[][]? _beforeLastStep;
        private DataSetEvaluator<T>? _evaluator;

        public EpochRunner(Trainer<T> trainer, TrainingStep<T> step, DataSet<T> training, DataSet<T>? validation,
            IProgress<BatchResult>? batchProgress, CancellationToken cancellationToken)
        {
            _trainer = trainer;
            _step = step;
            _training = training;
            _validation = validation;
            _batchProgress = batchProgress;
            _cancellationToken = cancellationToken;
            int n = training.Count;
            _batch = Math.Min(trainer.Options.BatchSize, n);
            BatchCount = (n + _batch - 1) / _batch;
            _batchX = new Matrix<T>(_batch, training.FeatureCount);
            _batchY = new int[_batch];
            _order = new int[n];
            _lastGood = [.. step.Setup.Score.Parameters.Select(p => p.Value.Span.ToArray())];
            if (trainer.Options.Diagnose)
                _beforeLastStep = [.. step.Setup.Score.Parameters.Select(p => new T[p.Value.Span.Length])];
            if (validation is not null || trainer.Options.EvaluateTrainingSet)
                _evaluator = new DataSetEvaluator<T>(step.Setup.Score, step.Setup.Loss);
        }

        public int BatchCount { get; }

        public EpochResult Run(int epoch, TrainingState<T> state)
        {
            var options = _trainer.Options;
            var parameters = _step.Setup.Score.Parameters;
            int n = _training.Count;
            long started = Stopwatch.GetTimestamp();
            double lossSum = 0;
            long correct = 0, measured = 0;
            for (int i = 0; i < n; i++)
                _order[i] = i;
            if (options.Shuffle)
                state.Shuffler.Shuffle(_order);
            if (options.Diagnose && epoch == 1 && state.History.InitialLoss is null && NetworkDiagnostics.ChanceLoss(_step.Setup.Loss, _step.Setup.Score.ClassCount) is not null)
                state.History.InitialLoss = NetworkDiagnostics.InitialLoss(_step.Setup.Score, _step.Setup.Loss, _training);

            for (int start = 0, batchIndex = 1; start < n; start += _batch, batchIndex++)
            {
                _cancellationToken.ThrowIfCancellationRequested();
                long batchStarted = Stopwatch.GetTimestamp();
                int size = Math.Min(_batch, n - start);
                var rows = _order.AsSpan(start, size);
                _training.Gather(rows, _batchX.AsSpan(), _batchY);
                if (_beforeLastStep is not null && start + _batch >= n)
                    for (int k = 0; k < parameters.Count; k++)
                        parameters[k].Value.Span.CopyTo(_beforeLastStep[k]);
                T dataLoss = _step.Run(_batchX.AsReadOnlySpan().SliceRows(0, size), _batchY.AsSpan(0, size));
                if (!T.IsFinite(dataLoss))
                {
                    // The step changed nothing: skip the batch, or stop with the last good weights.
                    if (options.SkipNonFiniteBatches)
                    {
                        state.History.SkippedBatches++;
                        continue;
                    }
                    Diverge(state.History, epoch, batchIndex, _step.LastProblem!);
                }
                // The running figures: this batch's loss and accuracy under the weights before its step.
                int batchCorrect = _step.Gradient.LastBatchCorrect(_batchY.AsSpan(0, size));
                lossSum += double.CreateChecked(dataLoss) * size;
                correct += batchCorrect;
                measured += size;
                if (_batchProgress is not null)
                {
                    double seconds = Stopwatch.GetElapsedTime(batchStarted).TotalSeconds;
                    _batchProgress.Report(new BatchResult(epoch, batchIndex, BatchCount, double.CreateChecked(dataLoss),
                        (double)batchCorrect / size, seconds > 0 ? size / seconds : 0));
                }
            }

            var duration = Stopwatch.GetElapsedTime(started);
            // The last step's update is checked here: no later batch's loss will see it.
            foreach (var p in parameters)
                if (!TensorPrimitives.IsFiniteAll<T>(p.Value.Span))
                    Diverge(state.History, epoch, null, $"{p.Name} holds a non-finite value after the epoch's last step");
            // Running figures unless asked for the full set, or every batch was skipped and there are none.
            var trainingFigures = options.EvaluateTrainingSet || measured == 0
                ? (_evaluator ??= new DataSetEvaluator<T>(_step.Setup.Score, _step.Setup.Loss)).Evaluate(_training)
                : (lossSum / measured, (double)correct / measured);
            var result = Figures(epoch, trainingFigures) with
            {
                Duration = duration,
                SamplesPerSecond = duration > TimeSpan.Zero ? n / duration.TotalSeconds : 0,
                Diagnostics = _beforeLastStep is null ? null : Diagnose(parameters),
            };
            if (!double.IsFinite(result.TotalLoss))
                Diverge(state.History, epoch, null, $"the loss after the epoch is {result.TotalLoss}");
            for (int k = 0; k < parameters.Count; k++)
                parameters[k].Value.Span.CopyTo(_lastGood[k]);
            return result;
        }

        /// <summary>The update-to-weight ratios of the epoch's last step and, for a network, its dead ReLU units on the first 1,024 rows.</summary>
        private EpochDiagnostics Diagnose(IReadOnlyList<Parameter<T>> parameters)
        {
            var ratios = new Dictionary<string, double>();
            for (int k = 0; k < parameters.Count; k++)
                ratios[parameters[k].Name] = NetworkDiagnostics.UpdateRatio<T>(_beforeLastStep![k], parameters[k].Value.Span);
            var dead = _step.Setup.Score is Sequential<T> network
                ? NetworkDiagnostics.DeadReluFractions(network, _training.Features.AsReadOnlySpan().SliceRows(0, Math.Min(1024, _training.Count)))
                : new Dictionary<int, double>();
            return new EpochDiagnostics(ratios, dead);
        }

        /// <summary>The epoch's result from its training figures, the penalty now and the validation set's figures.</summary>
        private EpochResult Figures(int epoch, (double Loss, double Accuracy) training)
        {
            var setup = _step.Setup;
            double penalty = 0;
            foreach (var p in setup.Score.Parameters)
                if (p.IsRegularized)
                    penalty += double.CreateChecked(setup.Regularizer.Penalty<T>(p.Value.Span));
            (double Loss, double Accuracy)? held = _validation is null ? null : _evaluator!.Evaluate(_validation);
            return new EpochResult(epoch, training.Loss, penalty, training.Accuracy, held?.Accuracy, ValidationLoss: held?.Loss);
        }

        private void Diverge(TrainingHistory history, int epoch, int? batch, string problem)
        {
            var parameters = _step.Setup.Score.Parameters;
            for (int k = 0; k < parameters.Count; k++)
                _lastGood[k].CopyTo(parameters[k].Value.Span);
            int epochs = history.Epochs.Count;
            string where = batch is { } b ? $"epoch {epoch}, batch {b}" : $"epoch {epoch}";
            throw new TrainingDivergedException(
                $"Training diverged in {where}: {problem}. The weights were rolled back to " +
                (epochs == 0 ? "their initial values" : $"the end of epoch {epochs}") +
                ". Try a smaller learning rate, or standardize the features.", history, epoch, batch, problem);
        }
    }
}
