namespace NeuralBasics.Evaluation;

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
        return (double)Correct(predicted, labels) / labels.Length;
    }

    /// <summary>How many of <paramref name="predicted"/> equal <paramref name="labels"/> (same lengths, checked by the caller).</summary>
    internal static int Correct(ReadOnlySpan<int> predicted, ReadOnlySpan<int> labels)
    {
        int correct = 0;
        for (int i = 0; i < labels.Length; i++)
            correct += predicted[i] == labels[i] ? 1 : 0;
        return correct;
    }
}
