using System.Numerics;
using NeuralBasics.Models;

namespace NeuralBasics.Training;

/// <summary>
/// The outcome of a training run, whichever trainer ran it: the trained model, the per-epoch
/// history (empty for the asynchronous trainers, whose workers keep no common epochs), and, for
/// elastic averaging, each worker's final network.
/// </summary>
/// <param name="Model">The trained model.</param>
/// <param name="History">One result per completed epoch.</param>
/// <param name="Workers">Each worker's final network, when the trainer has workers with networks of their own; else empty.</param>
public sealed record TrainingResult<T>(Classifier<T> Model, TrainingHistory History, IReadOnlyList<IScoreFunction<T>>? Workers = null)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Each worker's final network (empty when the trainer has none of its own).</summary>
    public IReadOnlyList<IScoreFunction<T>> Workers { get; init; } = Workers ?? [];

    /// <summary>What each distributed worker did (steps, samples, messages, bytes), by worker id; empty for <see cref="Trainer{T}"/>.</summary>
    public IReadOnlyList<WorkerReport> Reports { get; init; } = [];
}
