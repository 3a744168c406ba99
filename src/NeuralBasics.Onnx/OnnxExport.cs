using Google.Protobuf;
using NeuralBasics.Activations;
using NeuralBasics.Layers;
using NeuralBasics.Scoring;
using NeuralBasics.Training;
using Onnx;

namespace NeuralBasics.Onnx;

/// <summary>
/// Writes a trained <see cref="Classifier{T}"/> as an ONNX model (opset 13, float32), for ONNX
/// Runtime and every other ONNX consumer: input <c>features</c> [N, D]; outputs <c>scores</c>
/// [N, C] and, for a model trained with softmax cross-entropy, <c>probabilities</c> [N, C].
/// </summary>
/// <remarks>
/// <para>
/// The standardizer, when the model has one, becomes the first nodes, <c>(x − μ) / σ</c> (Sub,
/// Div); a dense layer is a Gemm with its weights and biases as initializers; ReLU, sigmoid, tanh
/// and leaky ReLU are Relu, Sigmoid, Tanh and LeakyRelu; maxout is a Gemm to units·k values,
/// Reshape to [N, units, k] and ReduceMax over the pieces; PReLU is PRelu with the slopes; dropout
/// is the identity at inference and adds no node; a linear classifier is one Gemm. Probabilities
/// are Softmax over the classes. The model is built from OnnxSharp's ONNX messages (the official
/// schema compiled by protoc) and written with Google.Protobuf.
/// </para>
/// <para>
/// ONNX Runtime computes in float with its own kernels: its scores match this library's to about
/// 1e-6 relative, its probabilities to well within 1e-5, and its predicted classes agree except
/// where two classes' scores tie to that precision.
/// </para>
/// </remarks>
public static class OnnxExport
{
    /// <summary>The ONNX opset the model uses.</summary>
    public const int Opset = 13;

    /// <summary>Saves <paramref name="model"/> to the ONNX file <paramref name="path"/> (replaced if it exists).</summary>
    /// <exception cref="NotSupportedException">The model holds a layer or activation ONNX export does not know.</exception>
    public static void Save(Classifier<float> model, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var proto = Build(model);
        string temporary = path + ".tmp";
        using (var file = File.Create(temporary))
            proto.WriteTo(file);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Writes <paramref name="model"/> as ONNX to <paramref name="stream"/> (left open).</summary>
    /// <exception cref="NotSupportedException">The model holds a layer or activation ONNX export does not know.</exception>
    public static void Save(Classifier<float> model, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Build(model).WriteTo(stream);
        stream.Flush();
    }

    /// <summary>The ONNX model of <paramref name="model"/>, as OnnxSharp's <see cref="ModelProto"/>.</summary>
    /// <exception cref="NotSupportedException">The model holds a layer or activation ONNX export does not know.</exception>
    public static ModelProto Build(Classifier<float> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = new Graph(model.InputCount);
        string current = "features";
        if (model.Standardizer is { } standardizer)
        {
            graph.Initializer("standardizer.mean", [standardizer.FeatureCount], [.. standardizer.Means.Select(m => (float)m)]);
            graph.Initializer("standardizer.scale", [standardizer.FeatureCount], [.. standardizer.Scales.Select(s => (float)s)]);
            current = graph.Node("Sub", [current, "standardizer.mean"], "centered");
            current = graph.Node("Div", [current, "standardizer.scale"], "standardized");
        }
        switch (model.CopyScoreFunction())
        {
            case LinearScore<float> linear:
                current = graph.Gemm(current, linear.Weights, linear.Biases, "scores");
                break;
            case Sequential<float> network:
                for (int l = 0; l < network.Layers.Count; l++)
                {
                    string output = l == network.Layers.Count - 1 ? "scores" : $"layer{l}";
                    current = Layer(graph, network.Layers[l], current, output, l);
                }
                if (current != "scores")
                    current = graph.Node("Identity", [current], "scores");
                break;
            case var other:
                throw new NotSupportedException($"ONNX export does not know the score function {other}.");
        }
        graph.Output("scores", model.ClassCount);
        if (model.HasProbabilities)
        {
            graph.Node("Softmax", [current], "probabilities", new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
            graph.Output("probabilities", model.ClassCount);
        }

        var proto = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "NeuralBasics",
            ProducerVersion = typeof(Classifier<>).Assembly.GetName().Version?.ToString() ?? "",
            Graph = graph.Proto,
            DocString = $"{model} exported by NeuralBasics.Onnx",
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        if (model.ClassNames is { } names)
            proto.MetadataProps.Add(new StringStringEntryProto { Key = "class_names", Value = string.Join("\n", names) });
        return proto;
    }

    private static string Layer(Graph graph, ILayer<float> layer, string input, string output, int index) => layer switch
    {
        Dense<float> dense => graph.Gemm(input, dense.Weights, dense.Biases, output),
        Maxout<float> maxout => Maxout(graph, maxout, input, output, index),
        PRelu<float> prelu => graph.Node("PRelu", [input, graph.Initializer(prelu.Slopes.Name, [prelu.InputCount], prelu.Slopes.Value.Span.ToArray())], output),
        Dropout<float> => input,
        ActivationLayer<float> { Activation: Relu } => graph.Node("Relu", [input], output),
        ActivationLayer<float> { Activation: Sigmoid } => graph.Node("Sigmoid", [input], output),
        ActivationLayer<float> { Activation: Tanh } => graph.Node("Tanh", [input], output),
        ActivationLayer<float> { Activation: LeakyRelu leaky } => graph.Node("LeakyRelu", [input], output,
            new AttributeProto { Name = "alpha", Type = AttributeProto.Types.AttributeType.Float, F = (float)leaky.Slope }),
        _ => throw new NotSupportedException($"ONNX export does not know the layer {layer}."),
    };

    /// <summary>Gemm to units·k values (unit j's pieces are columns j·k … j·k + k − 1), Reshape to [N, units, k], ReduceMax over k.</summary>
    private static string Maxout(Graph graph, Maxout<float> maxout, string input, string output, int index)
    {
        string wide = graph.Gemm(input, maxout.Weights, maxout.Biases, $"layer{index}.pieces");
        string shape = graph.Initializer($"layer{index}.shape", [3], new long[] { 0, maxout.OutputCount, maxout.Pieces });
        string grouped = graph.Node("Reshape", [wide, shape], $"layer{index}.grouped");
        return graph.Node("ReduceMax", [grouped], output,
            new AttributeProto { Name = "axes", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 2 } },
            new AttributeProto { Name = "keepdims", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
    }

    /// <summary>The graph being built: its nodes, initializers, input and outputs.</summary>
    private sealed class Graph
    {
        private int _nodes;

        public Graph(int features)
        {
            Proto = new GraphProto { Name = "neuralbasics" };
            Proto.Input.Add(Value("features", features));
        }

        public GraphProto Proto { get; }

        public string Node(string op, string[] inputs, string output, params AttributeProto[] attributes)
        {
            var node = new NodeProto { OpType = op, Name = $"{op}_{_nodes++}" };
            node.Input.AddRange(inputs);
            node.Output.Add(output);
            node.Attribute.AddRange(attributes);
            Proto.Node.Add(node);
            return output;
        }

        public string Gemm(string input, Parameter<float> weights, Parameter<float> biases, string output) =>
            Node("Gemm", [input, Initializer(weights.Name, [weights.Value.Rows, weights.Value.Columns], weights.Value.Span.ToArray()),
                Initializer(biases.Name, [biases.Value.Columns], biases.Value.Span.ToArray())], output);

        public string Initializer(string name, long[] dims, float[] values)
        {
            var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
            tensor.Dims.AddRange(dims);
            tensor.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes<float>(values));
            Proto.Initializer.Add(tensor);
            return name;
        }

        public string Initializer(string name, long[] dims, long[] values)
        {
            var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
            tensor.Dims.AddRange(dims);
            tensor.Int64Data.AddRange(values);
            Proto.Initializer.Add(tensor);
            return name;
        }

        public void Output(string name, int classes) => Proto.Output.Add(Value(name, classes));

        /// <summary>A float tensor [N, width] with N free.</summary>
        private static ValueInfoProto Value(string name, int width)
        {
            var shape = new TensorShapeProto();
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = width });
            return new ValueInfoProto
            {
                Name = name,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
            };
        }
    }
}
