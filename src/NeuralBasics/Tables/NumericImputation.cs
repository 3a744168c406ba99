namespace NeuralBasics.Tables;

/// <summary>What a missing number is replaced with, computed on the training rows.</summary>
public enum NumericImputation
{
    /// <summary>The mean of the column's values.</summary>
    Mean,

    /// <summary>The median of the column's values (robust to outliers).</summary>
    Median,
}
