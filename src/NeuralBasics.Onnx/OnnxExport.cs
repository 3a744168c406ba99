using System.Numerics;
using System.Runtime.InteropServices;
using Google.Protobuf;
using NeuralBasics.Components;
using NeuralBasics.Models;
using NeuralBasics.Tables;
using Onnx;

namespace NeuralBasics.Onnx;

/// <summary>
/// Writes a trained <see cref="Classifier{T}"/> as an ONNX model (opset 13, float32), for ONNX
/// Runtime and every other ONNX consumer: input <c>features</c> [N, D] — or, for a model with a
/// table schema, one input per raw column named like it (float [N, 1] with NaN for a missing number,
/// string [N, 1] with "" for a missing category); outputs <c>scores</c> [N, C] and, for a model
/// trained with softmax cross-entropy, <c>probabilities</c> [N, C].
/// </summary>
/// <remarks>
/// <para>
/// The standardizer, when the model has one, becomes the first nodes, <c>(x − μ) / σ</c> (Sub,
/// Div); a table schema's encodings write their own nodes (IsNaN/Where/Sub/Div for numbers,
/// <c>ai.onnx.ml</c> LabelEncoder then Equal/Cast for one-hot categories), concatenated into
/// <c>features</c>; then each component adds its own nodes (<see cref="IOnnxNodes"/>), so a layer of your
/// own exports once it implements that interface. The library's: a dense layer is a Gemm with its weights and biases as initializers; ReLU, sigmoid, tanh
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

    /// <summary>The <c>ai.onnx.ml</c> opset a model with a table schema also uses (LabelEncoder with string keys).</summary>
    public const int MlOpset = 2;

    private const string MlDomain = "ai.onnx.ml";

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
        var graph = new Graph();
        string current = "features";
        if (model.Schema is { } schema)
        {
            var parts = new List<string>();
            foreach (var encoding in schema.Encodings)
            {
                bool numeric = encoding.InputKind == ColumnKind.Numeric;
                graph.Input(encoding.Column, numeric ? TensorProto.Types.DataType.Float : TensorProto.Types.DataType.String, 1);
                parts.Add(encoding is IOnnxNodes writer ? writer.AddOnnxNodes(graph, encoding.Column, $"schema.{encoding.Column}")
                    : throw new NotSupportedException($"ONNX export does not know the column encoding {encoding}: it does not implement IOnnxNodes."));
            }
            current = graph.Node("Concat", parts, "features", OnnxAttribute.Int("axis", 1));
        }
        else
        {
            graph.Input("features", TensorProto.Types.DataType.Float, model.InputCount);
        }
        if (model.Standardizer is { } standardizer)
        {
            graph.Initializer<double>("standardizer.mean", [standardizer.FeatureCount], [.. standardizer.Means]);
            graph.Initializer<double>("standardizer.scale", [standardizer.FeatureCount], [.. standardizer.Scales]);
            current = graph.Node("Sub", [current, "standardizer.mean"], "centered");
            current = graph.Node("Div", [current, "standardizer.scale"], "standardized");
        }
        var score = model.CopyScoreFunction();
        current = score is IOnnxNodes nodes ? nodes.AddOnnxNodes(graph, current, "scores")
            : throw new NotSupportedException($"ONNX export does not know the score function {score}: it does not implement IOnnxNodes.");
        if (current != "scores")
            current = graph.Node("Identity", [current], "scores");
        graph.Output("scores", model.ClassCount);
        if (model.HasProbabilities)
        {
            graph.Node("Softmax", [current], "probabilities", OnnxAttribute.Int("axis", 1));
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
        if (graph.UsesMl)
            proto.OpsetImport.Add(new OperatorSetIdProto { Domain = MlDomain, Version = MlOpset });
        if (model.ClassNames is { } names)
            proto.MetadataProps.Add(new StringStringEntryProto { Key = "class_names", Value = string.Join("\n", names) });
        return proto;
    }

    /// <summary>The graph being built: its nodes, initializers, input and outputs.</summary>
    private sealed class Graph : IOnnxGraph
    {
        private readonly HashSet<string> _names = new(StringComparer.Ordinal);
        private int _nodes;

        public GraphProto Proto { get; } = new() { Name = "neuralbasics" };

        /// <summary>Whether a node of the ai.onnx.ml domain was added.</summary>
        public bool UsesMl => Proto.Node.Any(node => node.Domain == MlDomain);

        /// <summary>Adds an input [N, <paramref name="width"/>] of <paramref name="type"/>.</summary>
        public void Input(string name, TensorProto.Types.DataType type, int width) => Proto.Input.Add(Value(Named(name), type, width));

        public string Node(string opType, IReadOnlyList<string> inputs, string output, params OnnxAttribute[] attributes) =>
            Add("", opType, inputs, output, attributes);

        public string MlNode(string opType, IReadOnlyList<string> inputs, string output, params OnnxAttribute[] attributes) =>
            Add(MlDomain, opType, inputs, output, attributes);

        private string Add(string domain, string opType, IReadOnlyList<string> inputs, string output, OnnxAttribute[] attributes)
        {
            ArgumentException.ThrowIfNullOrEmpty(opType);
            ArgumentNullException.ThrowIfNull(inputs);
            var node = new NodeProto { OpType = opType, Domain = domain, Name = $"{opType}_{_nodes++}" };
            node.Input.AddRange(inputs);
            node.Output.Add(Named(output));
            node.Attribute.AddRange(attributes.Select(Attribute));
            Proto.Node.Add(node);
            return output;
        }

        /// <summary>The name, refused when a value of the graph already has it (a column named like a parameter, say).</summary>
        private string Named(string name)
        {
            ArgumentException.ThrowIfNullOrEmpty(name);
            return _names.Add(name) ? name
                : throw new NotSupportedException($"Two values of the ONNX graph would be named '{name}' (an input column named like a parameter or an output?); rename the column.");
        }

        public string Initializer<T>(string name, IReadOnlyList<long> dimensions, ReadOnlySpan<T> values)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var floats = new float[values.Length];
            for (int i = 0; i < floats.Length; i++)
                floats[i] = float.CreateChecked(values[i]);
            var tensor = new TensorProto { Name = Named(Checked(name, dimensions, values.Length)), DataType = (int)TensorProto.Types.DataType.Float };
            tensor.Dims.AddRange(dimensions);
            tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes<float>(floats));
            Proto.Initializer.Add(tensor);
            return name;
        }

        public string Initializer(string name, IReadOnlyList<long> dimensions, ReadOnlySpan<long> values)
        {
            var tensor = new TensorProto { Name = Named(Checked(name, dimensions, values.Length)), DataType = (int)TensorProto.Types.DataType.Int64 };
            tensor.Dims.AddRange(dimensions);
            tensor.Int64Data.AddRange(values.ToArray());
            Proto.Initializer.Add(tensor);
            return name;
        }

        /// <summary>The name, once its dimensions are checked to hold exactly the values given.</summary>
        private static string Checked(string name, IReadOnlyList<long> dimensions, int count)
        {
            ArgumentException.ThrowIfNullOrEmpty(name);
            ArgumentNullException.ThrowIfNull(dimensions);
            long elements = dimensions.Aggregate(1L, (product, d) => product * d);
            return elements == count ? name
                : throw new ArgumentException($"The initializer '{name}' has dimensions [{string.Join(", ", dimensions)}] ({elements} elements) but {count} values.", nameof(dimensions));
        }

        private static AttributeProto Attribute(OnnxAttribute attribute)
        {
            var proto = new AttributeProto { Name = attribute.Name };
            if (attribute.Integer is { } integer)
            {
                proto.Type = AttributeProto.Types.AttributeType.Int;
                proto.I = integer;
            }
            else if (attribute.Float is { } real)
            {
                proto.Type = AttributeProto.Types.AttributeType.Float;
                proto.F = real;
            }
            else if (attribute.Integers is { } integers)
            {
                proto.Type = AttributeProto.Types.AttributeType.Ints;
                proto.Ints.AddRange(integers);
            }
            else
            {
                proto.Type = AttributeProto.Types.AttributeType.Strings;
                proto.Strings.AddRange(attribute.Texts!.Select(ByteString.CopyFromUtf8));
            }
            return proto;
        }

        public void Output(string name, int classes) => Proto.Output.Add(Value(name, TensorProto.Types.DataType.Float, classes));

        /// <summary>A tensor [N, width] with N free.</summary>
        private static ValueInfoProto Value(string name, TensorProto.Types.DataType type, int width)
        {
            var shape = new TensorShapeProto();
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = width });
            return new ValueInfoProto
            {
                Name = name,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
            };
        }
    }
}
