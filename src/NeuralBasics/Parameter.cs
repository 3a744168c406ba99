using System.Numerics;

namespace NeuralBasics;

/// <summary>
/// One trainable tensor of a score function: its values, the gradient of the objective with
/// respect to them (written by the score function's backward pass), and whether it is a weight
/// that regularization applies to (biases are not).
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class Parameter<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates a parameter over <paramref name="value"/> with a zeroed gradient of the same shape.</summary>
    public Parameter(string name, Matrix<T> value, bool isRegularized)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        Value = value;
        Gradient = new Matrix<T>(value.Rows, value.Columns);
        IsRegularized = isRegularized;
    }

    /// <summary>The name, unique within its score function ("W", "b", ...).</summary>
    public string Name { get; }

    /// <summary>The values the optimizer updates.</summary>
    public Matrix<T> Value { get; }

    /// <summary>The gradient of the objective with respect to <see cref="Value"/>, same shape.</summary>
    public Matrix<T> Gradient { get; }

    /// <summary>True for weights (regularized), false for biases.</summary>
    public bool IsRegularized { get; }

    /// <summary>Shows the name and shape.</summary>
    public override string ToString() => $"{Name} {Value}";
}
