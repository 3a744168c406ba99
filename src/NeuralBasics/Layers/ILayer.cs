using System.Numerics;

namespace NeuralBasics.Layers;

/// <summary>
/// One stage of a network: maps an N x <see cref="InputCount"/> batch to N x
/// <see cref="OutputCount"/>, with its backward pass beside it.
/// </summary>
/// <remarks>
/// A layer may keep work buffers between its forward and backward passes, so one instance serves
/// one thread; <see cref="Clone"/> gives another thread its own.
/// </remarks>
public interface ILayer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The number of inputs per sample.</summary>
    int InputCount { get; }

    /// <summary>The number of outputs per sample.</summary>
    int OutputCount { get; }

    /// <summary>The trainable tensors (none for an activation layer).</summary>
    IReadOnlyList<Parameter<T>> Parameters { get; }

    /// <summary>Computes <paramref name="output"/> from <paramref name="input"/>.</summary>
    /// <exception cref="ArgumentException">A shape does not match.</exception>
    void Forward(ReadOnlyMatrixSpan<T> input, MatrixSpan<T> output);

    /// <summary>
    /// Given the last forward pass's <paramref name="input"/> and <paramref name="output"/> and
    /// <c>dL/d(output)</c>, sets each parameter's gradient (overwriting it) and writes
    /// <c>dL/d(input)</c> into <paramref name="inputGradient"/> unless that is empty.
    /// </summary>
    /// <exception cref="ArgumentException">A shape does not match.</exception>
    void Backward(ReadOnlyMatrixSpan<T> input, ReadOnlyMatrixSpan<T> output, ReadOnlyMatrixSpan<T> outputGradient, MatrixSpan<T> inputGradient);

    /// <summary>A deep copy: the same parameter values, its own gradients and buffers.</summary>
    ILayer<T> Clone();
}

/// <summary>Shape checks shared by the layers.</summary>
internal static class LayerChecks
{
    public static void Forward<T>(ILayer<T> layer, ReadOnlyMatrixSpan<T> input, MatrixSpan<T> output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (input.Columns != layer.InputCount)
            throw new ArgumentException(
                $"{layer} takes {layer.InputCount} inputs per sample but the input is {input.ToString()}.", nameof(input));
        if (output.Rows != input.Rows || output.Columns != layer.OutputCount)
            throw new ArgumentException(
                $"{layer} maps {input.ToString()} to {Shape.Of(input.Rows, layer.OutputCount)} but the output is {output.ToString()}.", nameof(output));
    }

    public static void Backward<T>(ILayer<T> layer, ReadOnlyMatrixSpan<T> input, ReadOnlyMatrixSpan<T> output,
        ReadOnlyMatrixSpan<T> outputGradient, MatrixSpan<T> inputGradient)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (input.Columns != layer.InputCount)
            throw new ArgumentException(
                $"{layer} takes {layer.InputCount} inputs per sample but the input is {input.ToString()}.", nameof(input));
        int n = input.Rows;
        if (output.Rows != n || output.Columns != layer.OutputCount)
            throw new ArgumentException($"The output is {output.ToString()} but {layer} gives {Shape.Of(n, layer.OutputCount)}.", nameof(output));
        if (outputGradient.Rows != n || outputGradient.Columns != layer.OutputCount)
            throw new ArgumentException(
                $"The output gradient is {outputGradient.ToString()} but {layer} gives {Shape.Of(n, layer.OutputCount)}.", nameof(outputGradient));
        if (!inputGradient.IsEmpty && (inputGradient.Rows != n || inputGradient.Columns != layer.InputCount))
            throw new ArgumentException(
                $"The input gradient is {inputGradient.ToString()} but the input is {input.ToString()}.", nameof(inputGradient));
    }
}
