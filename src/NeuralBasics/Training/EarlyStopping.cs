namespace NeuralBasics.Training;

/// <summary>
/// Early stopping: after each epoch the trainer compares <see cref="Metric"/> with the best so far;
/// an epoch that does not improve it by more than <see cref="MinDelta"/> counts against
/// <see cref="Patience"/>, and when that many epochs in a row fail, training stops. Either way the
/// score function ends with the best epoch's weights. It needs a validation set.
/// </summary>
public sealed record EarlyStopping
{
    /// <summary>Creates the rule.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Patience below 1, or a negative or non-finite minimum improvement.</exception>
    public EarlyStopping(int patience, EarlyStoppingMetric metric = EarlyStoppingMetric.ValidationLoss, double minDelta = 0)
    {
        Patience = Guard.AtLeast(patience, 1, "The patience");
        Metric = metric;
        MinDelta = Guard.NonNegativeFinite(minDelta, "The minimum improvement");
    }

    /// <summary>Epochs in a row without improvement before stopping.</summary>
    public int Patience { get; }

    /// <summary>The figure watched.</summary>
    public EarlyStoppingMetric Metric { get; }

    /// <summary>The least change that counts as an improvement.</summary>
    public double MinDelta { get; }
}
