namespace NeuralBasics.Layers;

/// <summary>
/// How many rows a scorer (the classifier, the trainer's evaluator) puts through a
/// network at once: 1,024, or fewer when a row keeps more than 32 Ki values in the network's
/// buffers (a convolutional network's feature maps and patches), so the buffers stay near 32 Mi
/// values (128 MB of floats) per copy. Each row's scores are the same bits whatever the chunk.
/// </summary>
internal static class ScoringChunks
{
    /// <summary>The most rows per chunk.</summary>
    internal const int MaxRows = 1024;

    /// <summary>The values a chunk may keep in a network's buffers.</summary>
    internal const long BudgetValues = 1L << 25;

    /// <summary>Rows per chunk for <paramref name="score"/>: at least 16, at most <see cref="MaxRows"/>.</summary>
    public static int Rows<T>(IScoreFunction<T> score)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        score is Sequential<T> network ? (int)Math.Clamp(BudgetValues / Math.Max(1, network.ValuesPerRow), 16, MaxRows) : MaxRows;
}
