namespace NeuralBasics.Selection;

/// <summary>How a <see cref="Hyperparameter"/>'s values are spread.</summary>
public enum HyperparameterScale
{
    /// <summary>Evenly in the value.</summary>
    Linear,

    /// <summary>Evenly in the logarithm of the value.</summary>
    Log,

    /// <summary>A list of values.</summary>
    Choice,
}
