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
public sealed unsafe class TrainingStep<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Worker 0 is the score function itself; workers 1.. train replicas whose values follow it.</summary>
    private readonly IScoreFunction<T>[] _replicas;
    private readonly T[] _shardLosses;
    private readonly UpdateState[] _states;
    private readonly ParameterUpdate<T> _update;
    private T[] _scores = [], _dScores = [];
    private int[] _predicted = [];
    private int _rows;

    /// <summary>Prepares steps for <paramref name="score"/>.</summary>
    /// <exception cref="ArgumentException">The rule is <see cref="Newton"/>, which needs the whole batch (use <see cref="Trainer{T}"/>).</exception>
    /// <param name="score">The score function to train (in place).</param>
    /// <param name="loss">The data loss.</param>
    /// <param name="regularizer">The penalty on weights; null means none.</param>
    /// <param name="rule">The update rule.</param>
    /// <param name="workers">
    /// Synchronous data parallelism: the batch is cut into this many contiguous shards, each
    /// worker (one per core at most) computes its shard's gradient on its own replica, the gradients
    /// are summed in worker order (so results are deterministic, and equal to one worker's up to float
    /// rounding), and one update is applied. 1 (the default) trains on the calling thread.
    /// </param>
    public TrainingStep(IScoreFunction<T> score, ILoss loss, IRegularizer? regularizer, UpdateRule rule, int workers = 1)
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
        _update = new ParameterUpdate<T>(score.Parameters, Regularizer, rule, _states);
        Guard.AtLeast(workers, 1, "The number of workers");
        _replicas = [score, .. Enumerable.Range(1, workers - 1).Select(_ => score.Clone())];
        _shardLosses = new T[workers];
    }

    /// <summary>The number of synchronous data-parallel workers.</summary>
    public int Workers => _replicas.Length;

    /// <summary>The work of one data-parallel step: pointers to the batch and its buffers, and how it is cut.</summary>
    private struct ShardJob
    {
        public nint Step;
        public T* Inputs, Scores, DScores;
        public int* Labels;
        public int Rows, Columns, Classes, Shards;
    }

    private static void RunShard(void* state, int shard)
    {
        ref readonly ShardJob job = ref System.Runtime.CompilerServices.Unsafe.AsRef<ShardJob>(state);
        var step = (TrainingStep<T>)System.Runtime.InteropServices.GCHandle.FromIntPtr(job.Step).Target!;
        var (start, count) = ShardRange(job.Rows, job.Shards, shard);
        var x = new ReadOnlyMatrixSpan<T>(new ReadOnlySpan<T>(job.Inputs + (long)start * job.Columns, count * job.Columns), count, job.Columns);
        var s = new MatrixSpan<T>(new Span<T>(job.Scores + (long)start * job.Classes, count * job.Classes), count, job.Classes);
        var ds = new MatrixSpan<T>(new Span<T>(job.DScores + (long)start * job.Classes, count * job.Classes), count, job.Classes);
        var replica = step._replicas[shard];
        replica.Forward(x, s);
        T loss = step.Loss.Compute(s, new ReadOnlySpan<int>(job.Labels + start, count), ds);
        step._shardLosses[shard] = loss;
        if (T.IsFinite(loss))
            replica.Backward(x, ds, default);
    }

    /// <summary>Shard <paramref name="shard"/> of <paramref name="shards"/> over <paramref name="rows"/> rows: contiguous, sizes differing by at most one.</summary>
    private static (int Start, int Count) ShardRange(int rows, int shards, int shard)
    {
        int baseSize = rows / shards, extra = rows % shards;
        int start = shard * baseSize + Math.Min(shard, extra);
        return (start, baseSize + (shard < extra ? 1 : 0));
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
        if (labels.IsEmpty)
            throw new ArgumentException("Accuracy needs at least one sample.", nameof(labels));
        return (double)LastBatchCorrect(labels) / labels.Length;
    }

    /// <summary>How many samples of the last batch the scores before the step classified correctly.</summary>
    internal int LastBatchCorrect(ReadOnlySpan<int> labels)
    {
        if (labels.Length != _rows)
            throw new ArgumentException($"The last batch had {_rows} samples but {labels.Length} labels were given.", nameof(labels));
        var predicted = _predicted.AsSpan(0, _rows);
        NeuralBasics.Kernels.RowOps.RowArgMax(new ReadOnlyMatrixSpan<T>(_scores, _rows, Score.ClassCount), predicted);
        return Metrics.Correct(predicted, labels);
    }

    /// <summary>
    /// One step on the batch <paramref name="inputs"/> (N x D) with <paramref name="labels"/>;
    /// returns the batch's mean data loss, or NaN when the loss or a gradient was not finite (then
    /// nothing changed and <see cref="LastProblem"/> says why).
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or labels do not fit the score function.</exception>
    public T Run(ReadOnlyMatrixSpan<T> inputs, ReadOnlySpan<int> labels)
    {
        T dataLoss = ComputeGradient(inputs, labels);
        if (!T.IsFinite(dataLoss))
            return dataLoss;
        _update.Update();
        var parameters = Score.Parameters;
        // The replicas follow the updated values before the next step.
        for (int w = 1; w < _replicas.Length; w++)
        {
            var replica = _replicas[w].Parameters;
            for (int k = 0; k < parameters.Count; k++)
                parameters[k].Value.Span.CopyTo(replica[k].Value.Span);
        }
        return dataLoss;
    }

    /// <summary>
    /// Everything <see cref="Run"/> does except the update: leaves the full gradient (data loss,
    /// regularization, clipping) in each parameter's <see cref="Parameter{T}.Gradient"/>
    /// and returns the batch's data loss, or NaN (with <see cref="LastProblem"/>) when the loss or a
    /// gradient is not finite. Downpour workers send this gradient to a parameter server.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or labels do not fit the score function.</exception>
    public T ComputeGradient(ReadOnlyMatrixSpan<T> inputs, ReadOnlySpan<int> labels)
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

        int shards = Math.Min(_replicas.Length, n);
        T dataLoss;
        if (shards <= 1)
        {
            Score.Forward(inputs, scores);
            dataLoss = Loss.Compute(scores, labels, dScores);
            if (!T.IsFinite(dataLoss))
                return Fail($"the data loss of the batch is {dataLoss}");
            Score.Backward(inputs, dScores, default);
        }
        else
        {
            dataLoss = RunShards(inputs, labels, scores, dScores, shards);
            if (!T.IsFinite(dataLoss))
                return Fail($"the data loss of the batch is {dataLoss}");
        }

        // Regularization gradient, finiteness and norm in one pass over every tensor, on every core.
        if (_update.PrepareGradients(out string? nonFinite) is not { } norm)
            return Fail($"the gradient of {nonFinite} is not finite");
        LastGradientNorm = norm;
        if (_clipGradientNorm is { } limit && LastGradientNorm > limit)
            _update.ScaleGradients(T.CreateChecked(limit / LastGradientNorm));
        return dataLoss;
    }

    /// <summary>
    /// Runs the shards on the kernel worker threads (their own matrix products then stay on their
    /// thread), then sums the gradients in worker order, each weighted by its share of the batch:
    /// every shard's loss is a mean over its own rows.
    /// </summary>
    private T RunShards(ReadOnlyMatrixSpan<T> inputs, ReadOnlySpan<int> labels, MatrixSpan<T> scores, MatrixSpan<T> dScores, int shards)
    {
        var handle = System.Runtime.InteropServices.GCHandle.Alloc(this);
        try
        {
            fixed (T* x = inputs.Span)
            fixed (T* s = scores.Span)
            fixed (T* ds = dScores.Span)
            fixed (int* y = labels)
            {
                var job = new ShardJob
                {
                    Step = System.Runtime.InteropServices.GCHandle.ToIntPtr(handle),
                    Inputs = x, Scores = s, DScores = ds, Labels = y,
                    Rows = inputs.Rows, Columns = inputs.Columns, Classes = Score.ClassCount, Shards = shards,
                };
                NeuralBasics.Kernels.KernelThreads.Run(&RunShard, &job, shards);
            }
        }
        finally
        {
            handle.Free();
        }

        int n = inputs.Rows;
        T loss = T.Zero;
        var parameters = Score.Parameters;
        for (int w = 0; w < shards; w++)
        {
            T share = T.CreateChecked(ShardRange(n, shards, w).Count) / T.CreateChecked(n);
            loss += share * _shardLosses[w];
            if (!T.IsFinite(_shardLosses[w]))
                return _shardLosses[w];
            var replica = _replicas[w].Parameters;
            for (int k = 0; k < parameters.Count; k++)
            {
                var total = parameters[k].Gradient.Span;
                if (w == 0)
                    TensorPrimitives.Multiply(total, share, total);
                else
                    TensorPrimitives.MultiplyAdd(replica[k].Gradient.Span, share, total, total);
            }
        }
        return loss;
    }

    private T Fail(string problem)
    {
        LastProblem = problem;
        return T.NaN;
    }
}
