using System.Numerics;

namespace NeuralBasics.Training;

/// <summary>
/// What the epoch loop carries from one epoch to the next, composed of the policies' own states —
/// the epochs done, the shuffling generator, the history, early stopping's and reduce-on-plateau's
/// bookkeeping — and so exactly what a checkpoint saves (beside the weights and the chain's state)
/// and <see cref="Trainer{T}.Resume"/> restores. Each part writes, reads and range-checks itself.
/// </summary>
internal sealed class TrainingState<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Epochs completed.</summary>
    public int Epoch { get; set; }

    /// <summary>The shuffling generator; each epoch's order is a fresh permutation drawn from it alone.</summary>
    public required ShuffleRandom Shuffler { get; init; }

    /// <summary>One result per completed epoch.</summary>
    public TrainingHistory History { get; init; } = new();

    /// <summary>Early stopping's best epoch, metric, weights and patience counter.</summary>
    public EarlyStoppingState<T> EarlyStopping { get; init; } = new();

    /// <summary>Reduce-on-plateau's multiplier and counters.</summary>
    public PlateauState Plateau { get; init; } = new();

    /// <summary>The state of a new run.</summary>
    public static TrainingState<T> Start(int seed) => new() { Shuffler = new ShuffleRandom(unchecked((ulong)seed)) };
}
