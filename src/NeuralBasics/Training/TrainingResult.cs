using System.Numerics;

namespace NeuralBasics.Training;

/// <summary>The outcome of <see cref="Trainer{T}.Train"/>: the trained model and the per-epoch history.</summary>
public sealed record TrainingResult<T>(Classifier<T> Model, TrainingHistory History)
    where T : unmanaged, IFloatingPointIeee754<T>;
