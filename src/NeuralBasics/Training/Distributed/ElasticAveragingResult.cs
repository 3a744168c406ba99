using System.Numerics;
using NeuralBasics.Scoring;

namespace NeuralBasics.Training.Distributed;

/// <summary>The outcome of elastic averaging: the model from the center variable, and each worker's final network.</summary>
public sealed record ElasticAveragingResult<T>(Classifier<T> Model, IReadOnlyList<IScoreFunction<T>> Workers)
    where T : unmanaged, IFloatingPointIeee754<T>;
