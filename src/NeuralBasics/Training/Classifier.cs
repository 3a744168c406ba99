using System.Numerics;
using NeuralBasics.Data;
using NeuralBasics.Kernels;
using NeuralBasics.Losses;
using NeuralBasics.Scoring;

namespace NeuralBasics.Training;

/// <summary>
/// A trained classifier: a frozen score function and the loss it was trained with. It never
/// changes after training, and <see cref="Predict(Matrix{T})"/> and the other methods are safe to
/// call from many threads at once (each concurrent caller borrows its own copy of the network,
/// since networks keep work buffers).
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class Classifier<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Rows scored per forward pass, so a large data set does not make the network's buffers huge.</summary>
    private const int ChunkRows = 1024;

    private readonly IScoreFunction<T> _score;
    private readonly System.Collections.Concurrent.ConcurrentBag<IScoreFunction<T>> _copies = [];

    /// <summary>Wraps a copy of <paramref name="score"/>, so later changes to it do not reach this model.</summary>
    public Classifier(IScoreFunction<T> score, ILoss loss)
    {
        ArgumentNullException.ThrowIfNull(score);
        ArgumentNullException.ThrowIfNull(loss);
        _score = score.Clone();
        Loss = loss;
    }

    /// <summary>The loss the model was trained with.</summary>
    public ILoss Loss { get; }

    /// <summary>D, the number of features per sample.</summary>
    public int InputCount => _score.InputCount;

    /// <summary>C, the number of classes.</summary>
    public int ClassCount => _score.ClassCount;

    /// <summary>True when the model gives class probabilities (it was trained with softmax cross-entropy).</summary>
    public bool HasProbabilities => Loss is SoftmaxCrossEntropyLoss;

    /// <summary>A copy of the parameter values, by name ("W", "b", ...).</summary>
    public IReadOnlyDictionary<string, Matrix<T>> ParameterValues() =>
        _score.Parameters.ToDictionary(p => p.Name, p => p.Value.Clone());

    /// <summary>The N x C class scores of the N x D <paramref name="features"/>.</summary>
    /// <exception cref="ArgumentException">The feature count differs from the model's.</exception>
    public Matrix<T> Scores(Matrix<T> features)
    {
        if (features.Columns != InputCount)
            throw new ArgumentException($"The features {features} have {features.Columns} columns but the model takes {InputCount}.", nameof(features));
        var scores = new Matrix<T>(features.Rows, ClassCount);
        if (!_copies.TryTake(out var copy))
            copy = _score.Clone();
        try
        {
            for (int start = 0; start < features.Rows; start += ChunkRows)
            {
                int rows = Math.Min(ChunkRows, features.Rows - start);
                copy.Forward(features.AsReadOnlySpan().SliceRows(start, rows), scores.AsSpan().SliceRows(start, rows));
            }
        }
        finally
        {
            _copies.Add(copy);
        }
        return scores;
    }

    /// <summary>The predicted class of each row of <paramref name="features"/>: the index of its highest score.</summary>
    /// <exception cref="ArgumentException">The feature count differs from the model's.</exception>
    public int[] Predict(Matrix<T> features)
    {
        var classes = new int[features.Rows];
        RowOps.RowArgMax(Scores(features).AsReadOnlySpan(), classes);
        return classes;
    }

    /// <summary>The N x C class probabilities (row-wise softmax of the scores).</summary>
    /// <exception cref="InvalidOperationException">The model was not trained with softmax cross-entropy, so its scores are not log-probabilities.</exception>
    public Matrix<T> Probabilities(Matrix<T> features)
    {
        if (!HasProbabilities)
            throw new InvalidOperationException(
                $"This model was trained with {Loss}; only a model trained with SoftmaxCrossEntropyLoss gives probabilities. Use Scores or Predict.");
        var scores = Scores(features);
        RowOps.SoftmaxRows(scores.AsReadOnlySpan(), scores.AsSpan());
        return scores;
    }

    /// <summary>The fraction of <paramref name="data"/> classified correctly.</summary>
    /// <exception cref="ArgumentException">The data's feature or class count differs from the model's.</exception>
    public double Accuracy(DataSet<T> data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.ClassCount != ClassCount)
            throw new ArgumentException($"The data has {data.ClassCount} classes but the model has {ClassCount}.", nameof(data));
        return Metrics.Accuracy(Predict(data.Features), data.Labels);
    }

    /// <summary>Shows the score function and loss.</summary>
    public override string ToString() => $"Classifier({_score}, {Loss})";
}
