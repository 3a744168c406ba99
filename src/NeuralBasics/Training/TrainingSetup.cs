using System.Numerics;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;

namespace NeuralBasics.Training;

/// <summary>
/// What is trained and how, shared by <see cref="Trainer{T}"/>, <see cref="TrainingStep{T}"/> and
/// the data-parallel trainers: the score function (trained in place), the data loss, the penalty on
/// weights and the update (gradient transforms, then a rule).
/// </summary>
public sealed record TrainingSetup<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates the setup; a null regularizer means none.</summary>
    /// <exception cref="ArgumentNullException">The score function, loss or update is null.</exception>
    public TrainingSetup(IScoreFunction<T> score, ILoss loss, IRegularizer? regularizer, UpdateChain update)
    {
        ArgumentNullException.ThrowIfNull(score);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(update);
        Score = score;
        Loss = loss;
        Regularizer = regularizer ?? NoRegularization.Instance;
        Update = update;
    }

    /// <summary>The score function being trained, in place.</summary>
    public IScoreFunction<T> Score { get; init; }

    /// <summary>The data loss.</summary>
    public ILoss Loss { get; init; }

    /// <summary>The penalty on weights (never on biases).</summary>
    public IRegularizer Regularizer { get; init; }

    /// <summary>The gradient transforms and the update rule.</summary>
    public UpdateChain Update { get; init; }
}
