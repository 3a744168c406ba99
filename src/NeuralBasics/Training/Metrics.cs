namespace NeuralBasics.Training;

/// <summary>Classification metrics.</summary>
public static class Metrics
{
    /// <summary>The fraction of positions where <paramref name="predicted"/> equals <paramref name="labels"/>.</summary>
    /// <exception cref="ArgumentException">The lengths differ, or both are empty.</exception>
    public static double Accuracy(ReadOnlySpan<int> predicted, ReadOnlySpan<int> labels)
    {
        if (predicted.Length != labels.Length)
            throw new ArgumentException($"There are {predicted.Length} predictions but {labels.Length} labels.", nameof(labels));
        if (labels.IsEmpty)
            throw new ArgumentException("Accuracy needs at least one sample.", nameof(labels));
        int correct = 0;
        for (int i = 0; i < labels.Length; i++)
            if (predicted[i] == labels[i])
                correct++;
        return (double)correct / labels.Length;
    }
}
