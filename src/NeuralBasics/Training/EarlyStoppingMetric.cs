namespace NeuralBasics.Training;

/// <summary>Which validation figure early stopping watches.</summary>
public enum EarlyStoppingMetric
{
    /// <summary>The mean data loss on the validation set (lower is better).</summary>
    ValidationLoss,

    /// <summary>The accuracy on the validation set (higher is better).</summary>
    ValidationAccuracy,
}
