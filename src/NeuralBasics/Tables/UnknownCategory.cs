namespace NeuralBasics.Tables;

/// <summary>What a one-hot encoding does with a category it never saw in the training rows.</summary>
public enum UnknownCategory
{
    /// <summary>Refuse the row with an <see cref="ArgumentException"/> naming the column and the value.</summary>
    Error,

    /// <summary>Encode it as all zeros (no category), as ML.NET's one-hot encoding and scikit-learn's <c>handle_unknown="ignore"</c> do.</summary>
    Zeros,

    /// <summary>Encode it as the "(other)" category, which then exists in every categorical column and also holds the rare ones.</summary>
    Other,
}
