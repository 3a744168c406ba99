using System.Numerics;
using NeuralBasics.Activations;
using NeuralBasics.Scoring;

namespace NeuralBasics.Layers;

/// <summary>Applies an <see cref="IActivation"/> to every element; no parameters.</summary>
public sealed class ActivationLayer<T> : ILayer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates the layer for <paramref name="size"/> values per sample.</summary>
    public ActivationLayer(IActivation activation, int size)
    {
        ArgumentNullException.ThrowIfNull(activation);
        Activation = activation;
        InputCount = Guard.AtLeast(size, 1, "The layer size");
    }

    /// <summary>The activation applied.</summary>
    public IActivation Activation { get; }

    /// <inheritdoc/>
    public int InputCount { get; }

    /// <inheritdoc/>
    public int OutputCount => InputCount;

    /// <inheritdoc/>
    public IReadOnlyList<Parameter<T>> Parameters => [];

    /// <inheritdoc/>
    public void Forward(ReadOnlyMatrixSpan<T> input, MatrixSpan<T> output)
    {
        LayerChecks.Forward(this, input, output);
        Activation.Forward(input.Span, output.Span);
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlyMatrixSpan<T> input, ReadOnlyMatrixSpan<T> output, ReadOnlyMatrixSpan<T> outputGradient, MatrixSpan<T> inputGradient)
    {
        LayerChecks.Backward(this, input, output, outputGradient, inputGradient);
        if (!inputGradient.IsEmpty)
            Activation.Backward(input.Span, output.Span, outputGradient.Span, inputGradient.Span);
    }

    /// <inheritdoc/>
    public ILayer<T> Clone() => new ActivationLayer<T>(Activation, InputCount);

    /// <inheritdoc/>
    public override string ToString() => $"{Activation}({InputCount})";
}
