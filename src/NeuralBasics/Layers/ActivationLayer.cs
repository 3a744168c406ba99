using System.Numerics;
using NeuralBasics.Activations;
using NeuralBasics.Components;

namespace NeuralBasics.Layers;

/// <summary>Applies an <see cref="IActivation"/> to every element; no parameters.</summary>
public sealed class ActivationLayer<T> : ILayer<T>, IDescribedComponent, IOnnxNodes
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
    public string Kind => "activation";

    /// <inheritdoc/>
    public void Describe(ComponentDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        description.Set("size", InputCount);
        description.SetComponent("activation", Activation);
    }

    /// <summary>The activation's node.</summary>
    /// <exception cref="NotSupportedException">The activation cannot be written as ONNX.</exception>
    public string AddOnnxNodes(IOnnxGraph graph, string input, string output) =>
        Activation is IOnnxNodes nodes ? nodes.AddOnnxNodes(graph, input, output)
        : throw new NotSupportedException($"ONNX export does not know the activation {Activation}: it does not implement IOnnxNodes.");

    /// <inheritdoc/>
    public ILayer<T> Clone() => new ActivationLayer<T>(Activation, InputCount);

    /// <inheritdoc/>
    public override string ToString() => $"{Activation}({InputCount})";
}

/// <summary>Reads an <see cref="ActivationLayer{T}"/>: its size and its activation, read by the activation's own reader.</summary>
internal sealed class ActivationLayerReader : ILayerReader
{
    public IEnumerable<ParameterShape> Parameters(ComponentDescription description) => [];

    public ILayer<T> Read<T>(ComponentDescription description)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new ActivationLayer<T>(description.ReadComponent<IActivation>("activation"), description.Count("size"));
}
