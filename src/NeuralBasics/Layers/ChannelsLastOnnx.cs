using NeuralBasics.Components;

namespace NeuralBasics.Layers;

/// <summary>
/// ONNX's Conv and MaxPool take images as N x C x H x W; a network's rows are flat and channels
/// last. An image layer's nodes are wrapped: the rows reshaped to N x H x W x C and transposed to
/// NCHW before the operator, and back after it, so the layers around stay flat as in the library.
/// </summary>
internal static class ChannelsLastOnnx
{
    /// <summary>Adds reshape and transpose, <paramref name="operation"/> (NCHW in → NCHW out, named as it likes), transpose and reshape; returns <paramref name="output"/>.</summary>
    public static string Wrap(IOnnxGraph graph, string input, string output, ImageShape from, ImageShape to, Func<string, string> operation)
    {
        string image = graph.Initializer($"{output}.image", [4], [0, from.Height, from.Width, from.Channels]);
        string nhwc = graph.Node("Reshape", [input, image], $"{output}.nhwc");
        string nchw = graph.Node("Transpose", [nhwc], $"{output}.nchw", OnnxAttribute.Ints("perm", 0, 3, 1, 2));
        string result = operation(nchw);
        string back = graph.Node("Transpose", [result], $"{output}.back", OnnxAttribute.Ints("perm", 0, 2, 3, 1));
        string flat = graph.Initializer($"{output}.flat", [2], [0, to.Count]);
        return graph.Node("Reshape", [back, flat], output);
    }
}
