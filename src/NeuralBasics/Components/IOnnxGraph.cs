using System.Numerics;

namespace NeuralBasics.Components;

/// <summary>
/// The ONNX graph being written, as a component sees it (<see cref="IOnnxNodes"/>): nodes of the
/// standard operators and constant tensors (initializers). Values are float tensors whose first
/// dimension is the batch. Names must be unique in the graph: derive intermediate names from the
/// output's name (<c>$"{output}.pieces"</c>) and initializer names from the parameters' names.
/// </summary>
public interface IOnnxGraph
{
    /// <summary>Adds a node of the ONNX operator <paramref name="opType"/> (opset 13) and returns <paramref name="output"/>.</summary>
    string Node(string opType, IReadOnlyList<string> inputs, string output, params OnnxAttribute[] attributes);

    /// <summary>
    /// Adds a node of the ONNX-ML operator <paramref name="opType"/> (domain <c>ai.onnx.ml</c>,
    /// opset 2: LabelEncoder, ...) and returns <paramref name="output"/>.
    /// </summary>
    string MlNode(string opType, IReadOnlyList<string> inputs, string output, params OnnxAttribute[] attributes);

    /// <summary>Adds a float tensor of shape <paramref name="dimensions"/> holding <paramref name="values"/> (converted to float) and returns <paramref name="name"/>.</summary>
    string Initializer<T>(string name, IReadOnlyList<long> dimensions, ReadOnlySpan<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Adds a 64-bit integer tensor (a shape for Reshape, axes) and returns <paramref name="name"/>.</summary>
    string Initializer(string name, IReadOnlyList<long> dimensions, ReadOnlySpan<long> values);

    /// <summary>
    /// Adds <c>output = input·W + b</c> as one Gemm node, the weights [inputs, outputs] and biases
    /// [outputs] as initializers named after the parameters.
    /// </summary>
    string Gemm<T>(string input, Parameter<T> weights, Parameter<T> biases, string output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(biases);
        return Node("Gemm",
        [
            input,
            Initializer<T>(weights.Name, [weights.Value.Rows, weights.Value.Columns], weights.Value.Span),
            Initializer<T>(biases.Name, [biases.Value.Columns], biases.Value.Span),
        ], output);
    }
}
