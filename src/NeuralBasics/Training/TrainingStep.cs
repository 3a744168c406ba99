using System.Numerics;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;

namespace NeuralBasics.Training;

/// <summary>
/// One optimization step on one mini-batch: the gradient (<see cref="GradientComputation{T}"/>:
/// forward, loss, backward, regularization gradient, finiteness and global norm), then the update
/// (<see cref="UpdateChain"/>: each gradient transform in turn, then the rule on every tensor, on
/// every core). <see cref="Trainer{T}"/> runs it batch after batch; use it directly for a training
/// loop of your own.
/// </summary>
/// <remarks>
/// It owns the update-rule states (one per parameter tensor, created once) and, through its
/// gradient computation, the score buffers, which grow to the largest batch seen: once warm, a
/// step allocates nothing. A loss or gradient that is not finite stops the step before any
/// parameter changes, and <see cref="Run"/> returns NaN with <see cref="LastProblem"/> saying what
/// went wrong.
/// </remarks>
public sealed class TrainingStep<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ChainApplication<T> _chain;

    /// <summary>Prepares steps for <paramref name="setup"/>.</summary>
    /// <param name="setup">What is trained and how.</param>
    /// <param name="workers">
    /// Synchronous data parallelism: 1 (the default) computes each gradient on the calling thread;
    /// more cut each batch into that many shards computed side by side on replicas (see
    /// <see cref="GradientComputation{T}.Create"/>).
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than 1 worker.</exception>
    public TrainingStep(TrainingSetup<T> setup, int workers = 1)
    {
        ArgumentNullException.ThrowIfNull(setup);
        Setup = setup;
        Gradient = GradientComputation<T>.Create(setup.Score, setup.Loss, setup.Regularizer, workers);
        _chain = new ChainApplication<T>(setup.Score.Parameters, setup.Update);
    }

    /// <summary>Prepares steps for <paramref name="score"/> (see <see cref="TrainingStep{T}(TrainingSetup{T}, int)"/>).</summary>
    /// <param name="score">The score function to train (in place).</param>
    /// <param name="loss">The data loss.</param>
    /// <param name="regularizer">The penalty on weights; null means none.</param>
    /// <param name="update">The update: an update rule, or gradient transforms and a rule.</param>
    /// <param name="workers">Synchronous data-parallel workers (default 1).</param>
    public TrainingStep(IScoreFunction<T> score, ILoss loss, IRegularizer? regularizer, UpdateChain update, int workers = 1)
        : this(new TrainingSetup<T>(score, loss, regularizer, update), workers)
    {
    }

    /// <summary>What is trained and how.</summary>
    public TrainingSetup<T> Setup { get; }

    /// <summary>The gradient computation the step starts with.</summary>
    public GradientComputation<T> Gradient { get; }

    /// <summary>The number of synchronous data-parallel workers.</summary>
    public int Workers => Gradient.Workers;

    /// <summary>The update-rule state of each parameter tensor, in <see cref="IScoreFunction{T}.Parameters"/> order.</summary>
    public IReadOnlyList<UpdateState> States => _chain.States;

    /// <summary>Each gradient transform's state of each tensor, in chain order (null where a transform keeps none).</summary>
    internal IReadOnlyList<IReadOnlyList<UpdateState?>> TransformStates => _chain.TransformStates;

    /// <summary>A multiplier on the rule's learning rate (reduce-on-plateau sets it between epochs); 1 by default.</summary>
    internal double LearningRateScale { get => _chain.Scale; set => _chain.Scale = value; }

    /// <summary>Why the last step did not update, or null when it did.</summary>
    public string? LastProblem => Gradient.LastProblem;

    /// <summary>The global gradient norm of the last step, before any transform.</summary>
    public double LastGradientNorm => Gradient.LastGradientNorm;

    /// <summary>The fraction of the last batch that the scores before the step classified correctly.</summary>
    /// <exception cref="ArgumentException">The label count differs from the last batch's.</exception>
    public double LastBatchAccuracy(ReadOnlySpan<int> labels) => Gradient.LastBatchAccuracy(labels);

    /// <summary>
    /// One step on the batch <paramref name="inputs"/> (N x D) with <paramref name="labels"/>;
    /// returns the batch's mean data loss, or NaN when the loss or a gradient was not finite (then
    /// nothing changed and <see cref="LastProblem"/> says why).
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or labels do not fit the score function.</exception>
    public T Run(ReadOnlyMatrixSpan<T> inputs, ReadOnlySpan<int> labels)
    {
        T dataLoss = Gradient.Compute(inputs, labels);
        if (!T.IsFinite(dataLoss))
            return dataLoss;
        _chain.Run(Gradient.LastGradientNorm);
        return dataLoss;
    }
}
