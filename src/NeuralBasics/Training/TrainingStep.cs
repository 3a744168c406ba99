using System.Numerics;
using System.Numerics.Tensors;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Scoring;

namespace NeuralBasics.Training;

/// <summary>
/// One optimization step on one mini-batch: forward pass, data loss and its gradient, backward
/// pass, the regularization gradient on the weights (never the biases), then one update-rule step
/// per parameter tensor. <see cref="Trainer{T}"/> runs it batch after batch; use it directly for a
/// training loop of your own.
/// </summary>
/// <remarks>
/// It owns the update-rule states (one per parameter tensor, created once) and the score buffers,
/// which grow to the largest batch seen: once warm, a step allocates nothing. A loss or gradient
/// that is not finite stops the step before any parameter changes, and <see cref="Run"/> returns
/// NaN with <see cref="LastProblem"/> saying what went wrong.
/// </remarks>
public sealed class TrainingStep<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly UpdateState[] _states;
    private T[] _scores = [], _dScores = [];
    private int[] _predicted = [];
    private int _rows;

    /// <summary>Prepares steps for <paramref name="score"/>.</summary>
    /// <exception cref="ArgumentException">The rule is <see cref="Newton"/>, which needs the whole batch (use <see cref="Trainer{T}"/>).</exception>
    public TrainingStep(IScoreFunction<T> score, ILoss loss, IRegularizer? regularizer, UpdateRule rule)
    {
        ArgumentNullException.ThrowIfNull(score);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(rule);
        if (rule is Newton)
            throw new ArgumentException("Newton's method works on the whole data set at once; train with Trainer, which runs it full-batch.", nameof(rule));
        Score = score;
        Loss = loss;
        Regularizer = regularizer ?? NoRegularization.Instance;
        Rule = rule;
        _states = [.. score.Parameters.Select(p => rule.CreateState<T>(p.Value.Span.Length))];
    }

    /// <summary>The score function being trained.</summary>
    public IScoreFunction<T> Score { get; }

    /// <summary>The data loss.</summary>
    public ILoss Loss { get; }

    /// <summary>The penalty on weights.</summary>
    public IRegularizer Regularizer { get; }

    /// <summary>The update rule.</summary>
    public UpdateRule Rule { get; }

    /// <summary>The update-rule state of each parameter tensor, in <see cref="IScoreFunction{T}.Parameters"/> order.</summary>
    public IReadOnlyList<UpdateState> States => _states;

    /// <summary>Why the last step did not update, or null when it did.</summary>
    public string? LastProblem { get; private set; }

    private double? _clipGradientNorm;

    /// <summary>
    /// When set, the gradients are clipped by global norm before the update: if
    /// <c>‖g‖ = √(Σ over all tensors of Σ g²)</c> exceeds it, every gradient is scaled by <c>limit / ‖g‖</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive and finite.</exception>
    public double? ClipGradientNorm
    {
        get => _clipGradientNorm;
        set => _clipGradientNorm = value is { } v ? Guard.PositiveFinite(v, "The gradient-norm limit", nameof(ClipGradientNorm)) : null;
    }

    /// <summary>The global gradient norm of the last step, before any clipping.</summary>
    public double LastGradientNorm { get; private set; }

    /// <summary>The fraction of the last batch that the scores before the step classified correctly.</summary>
    /// <exception cref="ArgumentException">The label count differs from the last batch's.</exception>
    public double LastBatchAccuracy(ReadOnlySpan<int> labels)
    {
        if (labels.Length != _rows)
            throw new ArgumentException($"The last batch had {_rows} samples but {labels.Length} labels were given.", nameof(labels));
        var predicted = _predicted.AsSpan(0, _rows);
        NeuralBasics.Kernels.RowOps.RowArgMax(new ReadOnlyMatrixSpan<T>(_scores, _rows, Score.ClassCount), predicted);
        return Metrics.Accuracy(predicted, labels);
    }

    /// <summary>
    /// One step on the batch <paramref name="inputs"/> (N x D) with <paramref name="labels"/>;
    /// returns the batch's mean data loss, or NaN when the loss or a gradient was not finite (then
    /// nothing changed and <see cref="LastProblem"/> says why).
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or labels do not fit the score function.</exception>
    public T Run(ReadOnlyMatrixSpan<T> inputs, ReadOnlySpan<int> labels)
    {
        int n = inputs.Rows, c = Score.ClassCount;
        if (_scores.Length < n * c)
        {
            _scores = new T[n * c];
            _dScores = new T[n * c];
            _predicted = new int[n];
        }
        _rows = n;
        var scores = new MatrixSpan<T>(_scores, n, c);
        var dScores = new MatrixSpan<T>(_dScores, n, c);
        LastProblem = null;

        Score.Forward(inputs, scores);
        T dataLoss = Loss.Compute(scores, labels, dScores);
        if (!T.IsFinite(dataLoss))
            return Fail($"the data loss of the batch is {dataLoss}");
        Score.Backward(inputs, dScores, default);

        var parameters = Score.Parameters;
        for (int k = 0; k < parameters.Count; k++)
        {
            var p = parameters[k];
            if (p.IsRegularized)
                Regularizer.AddGradient<T>(p.Value.Span, p.Gradient.Span);
            if (!TensorPrimitives.IsFiniteAll<T>(p.Gradient.Span))
                return Fail($"the gradient of {p.Name} is not finite");
        }

        double squaredNorm = 0;
        for (int k = 0; k < parameters.Count; k++)
            squaredNorm += double.CreateChecked(TensorPrimitives.SumOfSquares<T>(parameters[k].Gradient.Span));
        LastGradientNorm = Math.Sqrt(squaredNorm);
        if (_clipGradientNorm is { } limit && LastGradientNorm > limit)
        {
            T scale = T.CreateChecked(limit / LastGradientNorm);
            for (int k = 0; k < parameters.Count; k++)
                TensorPrimitives.Multiply(parameters[k].Gradient.Span, scale, parameters[k].Gradient.Span);
        }

        for (int k = 0; k < parameters.Count; k++)
            Rule.Apply(parameters[k].Value.Span, parameters[k].Gradient.Span, _states[k]);
        return dataLoss;
    }

    private T Fail(string problem)
    {
        LastProblem = problem;
        return T.NaN;
    }
}
