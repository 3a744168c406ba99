using System.Numerics;
using NeuralBasics.Evaluation;
using NeuralBasics.Kernels;
using NeuralBasics.Losses;
using NeuralBasics.Regularization;

namespace NeuralBasics.Training;

/// <summary>
/// The gradient of the objective on one mini-batch: forward pass, data loss and its gradient,
/// backward pass, then the regularization gradient on the weights (never the biases), a finiteness
/// check and the global norm. It leaves the gradient in each parameter's
/// <see cref="Parameter{T}.Gradient"/> and changes no weight. <see cref="TrainingStep{T}"/> follows
/// it with the update; a data-parallel worker sends the gradient elsewhere.
/// </summary>
/// <remarks>
/// <see cref="Create"/> gives one that computes on the calling thread (its matrix products use
/// every core) or, with more workers, one that cuts each batch into shards computed side by side on
/// replicas of the network, the gradients summed in worker order (deterministic, equal to one
/// worker's up to float rounding). Buffers grow to the largest batch seen: once warm, computing
/// allocates nothing.
/// </remarks>
public abstract class GradientComputation<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly GradientPreparation<T> _preparation;
    private T[] _scores = [], _dScores = [];
    private int[] _predicted = [];
    private int _rows;

    private protected GradientComputation(IScoreFunction<T> score, ILoss loss, IRegularizer? regularizer)
    {
        ArgumentNullException.ThrowIfNull(score);
        ArgumentNullException.ThrowIfNull(loss);
        Score = score;
        Loss = loss;
        Regularizer = regularizer ?? NoRegularization.Instance;
        _preparation = new GradientPreparation<T>(score.Parameters, Regularizer);
    }

    /// <summary>
    /// A gradient computation for <paramref name="score"/>: on the calling thread when
    /// <paramref name="workers"/> is 1, else synchronously sharded over that many replicas.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than 1 worker.</exception>
    public static GradientComputation<T> Create(IScoreFunction<T> score, ILoss loss, IRegularizer? regularizer, int workers = 1)
    {
        Guard.AtLeast(workers, 1, "The number of workers");
        return workers == 1 ? new LocalGradient<T>(score, loss, regularizer) : new ShardedGradient<T>(score, loss, regularizer, workers);
    }

    /// <summary>The score function whose parameters' gradients are computed.</summary>
    public IScoreFunction<T> Score { get; }

    /// <summary>The data loss.</summary>
    public ILoss Loss { get; }

    /// <summary>The penalty on weights.</summary>
    public IRegularizer Regularizer { get; }

    /// <summary>The number of synchronous data-parallel workers (1 for the calling thread alone).</summary>
    public virtual int Workers => 1;

    /// <summary>Why the last computation failed, or null when it succeeded.</summary>
    public string? LastProblem { get; private set; }

    /// <summary>The global gradient norm <c>√(Σ over all tensors of Σ g²)</c> of the last computation.</summary>
    public double LastGradientNorm { get; private set; }

    /// <summary>
    /// Computes the gradient of the batch <paramref name="inputs"/> (N x D) with
    /// <paramref name="labels"/> into the parameters' gradients; returns the batch's mean data loss,
    /// or NaN when the loss or a gradient is not finite (<see cref="LastProblem"/> says which).
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or labels do not fit the score function.</exception>
    public T Compute(ReadOnlyMatrixSpan<T> inputs, ReadOnlySpan<int> labels)
    {
        int n = inputs.Rows, c = Score.ClassCount;
        if (_scores.Length < n * c)
        {
            _scores = new T[n * c];
            _dScores = new T[n * c];
            _predicted = new int[n];
        }
        _rows = n;
        LastProblem = null;
        // Training behaviour (dropout) only for this pass; prediction and evaluation never see it.
        var mode = Score as Layers.ITrainingMode;
        if (mode is not null)
            mode.IsTraining = true;
        T dataLoss;
        try
        {
            dataLoss = ComputeDataGradient(inputs, labels, new MatrixSpan<T>(_scores, n, c), new MatrixSpan<T>(_dScores, n, c));
        }
        finally
        {
            if (mode is not null)
                mode.IsTraining = false;
        }
        if (!T.IsFinite(dataLoss))
            return Fail($"the data loss of the batch is {dataLoss}");
        // Regularization gradient, finiteness and norm in one pass over every tensor, on every core.
        if (_preparation.Run(out string? nonFinite) is not { } norm)
            return Fail($"the gradient of {nonFinite} is not finite");
        LastGradientNorm = norm;
        return dataLoss;
    }

    /// <summary>
    /// The data part: scores into <paramref name="scores"/>, the loss's gradient into
    /// <paramref name="dScores"/>, the backward pass into the parameters' gradients; returns the
    /// batch's mean data loss (not finite: stop before the backward pass).
    /// </summary>
    private protected abstract T ComputeDataGradient(ReadOnlyMatrixSpan<T> inputs, ReadOnlySpan<int> labels, MatrixSpan<T> scores, MatrixSpan<T> dScores);

    /// <summary>The fraction of the last batch that the scores of its forward pass classified correctly.</summary>
    /// <exception cref="ArgumentException">The label count differs from the last batch's, or is 0.</exception>
    public double LastBatchAccuracy(ReadOnlySpan<int> labels)
    {
        if (labels.IsEmpty)
            throw new ArgumentException("Accuracy needs at least one sample.", nameof(labels));
        return (double)LastBatchCorrect(labels) / labels.Length;
    }

    /// <summary>How many samples of the last batch the scores of its forward pass classified correctly.</summary>
    internal int LastBatchCorrect(ReadOnlySpan<int> labels)
    {
        if (labels.Length != _rows)
            throw new ArgumentException($"The last batch had {_rows} samples but {labels.Length} labels were given.", nameof(labels));
        var predicted = _predicted.AsSpan(0, _rows);
        RowOps.RowArgMax(new ReadOnlyMatrixSpan<T>(_scores, _rows, Score.ClassCount), predicted);
        return Metrics.Correct(predicted, labels);
    }

    private T Fail(string problem)
    {
        LastProblem = problem;
        return T.NaN;
    }
}
