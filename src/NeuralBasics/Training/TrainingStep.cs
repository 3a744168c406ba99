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
        }
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
