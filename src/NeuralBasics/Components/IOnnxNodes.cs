namespace NeuralBasics.Components;

/// <summary>
/// A component that writes itself as ONNX nodes, so the exporter (the <c>NeuralBasics.Onnx</c>
/// package) needs to know nothing about it: a layer, an activation, a score function.
/// </summary>
public interface IOnnxNodes
{
    /// <summary>
    /// Adds the nodes that compute this component's output at inference from the value named
    /// <paramref name="input"/>, the last of them writing the value named <paramref name="output"/>,
    /// and returns <paramref name="output"/>; or adds nothing and returns <paramref name="input"/>
    /// when the component is the identity at inference (dropout).
    /// </summary>
    /// <exception cref="NotSupportedException">Part of the component cannot be written as ONNX.</exception>
    string AddOnnxNodes(IOnnxGraph graph, string input, string output);
}
