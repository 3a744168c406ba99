using System.Numerics;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.OnnxRuntime;
using NeuralBasics.Activations;
using NeuralBasics.Components;
using NeuralBasics.Data;
using NeuralBasics.Diagnostics;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Models;
using NeuralBasics.Optimizers;
using NeuralBasics.Serialization;
using NeuralBasics.Training;

namespace NeuralBasics.Onnx.Tests;

/// <summary>
/// A layer the library does not ship, defined here and registered through the public API, goes
/// through everything the library's own layers do: its gradient checked, trained, saved, loaded
/// and exported to ONNX Runtime, with no change to the library.
/// </summary>
public sealed class CustomLayerTests
{
    static CustomLayerTests()
    {
        if (!ComponentRegistry.IsLayerRegistered(Scale<float>.KindName))
            ComponentRegistry.RegisterLayer(Scale<float>.KindName, new ScaleReader());
    }

    private static Sequential<T> Network<T>(int inputs)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new NetworkBuilder<T>(inputs, seed: 3).Dense(32).Add((width, prefix) => new Scale<T>(width, prefix)).Activation(new Relu()).Dense(10).Build();

    [Fact]
    public void ItsGradient_MatchesCentralDifferences()
    {
        var data = SyntheticData.Blobs<double>(8, 10, 6, seed: 2);
        var network = new NetworkBuilder<double>(6, seed: 3).Dense(5).Add((width, prefix) => new Scale<double>(width, prefix, 0.7)).Activation(new Tanh()).Dense(10).Build();
        var loss = SoftmaxCrossEntropyLoss.Instance;
        var x = data.Features;
        double Objective()
        {
            var scores = new Matrix<double>(x.Rows, 10);
            network.Forward(x, scores);
            return loss.Compute<double>(scores, data.Labels, default);
        }
        var scores = new Matrix<double>(x.Rows, 10);
        var scoreGradient = new Matrix<double>(x.Rows, 10);
        network.Forward(x, scores);
        loss.Compute<double>(scores, data.Labels, scoreGradient);
        var inputGradient = new Matrix<double>(x.Rows, x.Columns);
        network.Backward(x, scoreGradient, inputGradient);

        Assert.Equal(["0.W", "0.b", "1.s", "1.t", "3.W", "3.b"], network.Parameters.Select(p => p.Name));
        foreach (var p in network.Parameters)
        {
            var result = GradientCheck.Check(Objective, p.Value.Memory, p.Gradient.Span.ToArray());
            Assert.True(result.MaxRelativeError < 1e-6, $"d{p.Name}: {result}");
        }
        var inputs = GradientCheck.Check(Objective, x.Memory, inputGradient.Span.ToArray());
        Assert.True(inputs.MaxRelativeError < 1e-6, $"dX: {inputs}");
    }

    [Fact]
    public void ItTrains_SavesLoadsAndExports_WithoutTouchingTheLibrary()
    {
        var (train, test) = FashionMnist.Load<float>(Path.Combine(AppContext.BaseDirectory, "TestData", "fashion-mnist-subset"), trainLimit: 1500, testLimit: 300);
        var network = Network<float>(784);
        var scaleBefore = ((Scale<float>)network.Layers[1]).Factors.Value.Span.ToArray();
        var model = new Trainer<float>(network, SoftmaxCrossEntropyLoss.Instance, null, new Adam(1e-3),
            new TrainerOptions { Epochs = 3, BatchSize = 64, Seed = 1 }).Train(train).Model;
        Assert.NotEqual(scaleBefore, ((Scale<float>)network.Layers[1]).Factors.Value.Span.ToArray());
        Assert.True(model.Accuracy(test) > 0.6, $"{model.Accuracy(test):P1}");

        // Saved and loaded: the same kind, the same values, bit-identical predictions.
        string path = Path.Combine(Path.GetTempPath(), $"neuralbasics-custom-{Guid.NewGuid():N}.safetensors");
        try
        {
            model.Save(path);
            var loaded = Classifier<float>.Load(path);
            var scale = Assert.IsType<Scale<float>>(Assert.IsType<Sequential<float>>(loaded.CopyScoreFunction()).Layers[1]);
            Assert.Equal(((Scale<float>)network.Layers[1]).Factors.Value.Span.ToArray(), scale.Factors.Value.Span.ToArray());
            Assert.Equal(model.Scores(test.Features).Span.ToArray(), loaded.Scores(test.Features).Span.ToArray());
        }
        finally
        {
            File.Delete(path);
        }

        // Exported: ONNX Runtime computes the same probabilities.
        using var stream = new MemoryStream();
        OnnxExport.Save(model, stream);
        using var session = new InferenceSession(stream.ToArray());
        using var outputs = session.Run([NamedOnnxValue.CreateFromTensor("features", new DenseTensor<float>(test.Features.Span.ToArray(), [test.Count, 784]))]);
        float[] probabilities = [.. outputs.Single(o => o.Name == "probabilities").AsEnumerable<float>()];
        var expected = model.Probabilities(test.Features).Span;
        for (int k = 0; k < probabilities.Length; k++)
            Assert.True(Math.Abs(expected[k] - probabilities[k]) <= 1e-5, $"probability {k}: {expected[k]} vs {probabilities[k]}");
    }

    [Fact]
    public void AKindIsRegisteredOnce_AndAnUnregisteredKindIsNamedWhenLoading()
    {
        var e = Assert.Throws<ArgumentException>(() => ComponentRegistry.RegisterLayer("dense", new ScaleReader()));
        Assert.Contains("'dense' already has a reader", e.Message);

        var model = new Classifier<float>(new NetworkBuilder<float>(4, seed: 1).Dense(3).Add((width, prefix) => new Unregistered(width, prefix)).Build(),
            SoftmaxCrossEntropyLoss.Instance);
        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;
        var refused = Assert.Throws<InvalidDataException>(() => Classifier<float>.Load(stream));
        Assert.Contains("Unknown layer type 'unregistered'", refused.Message);
    }

    /// <summary>
    /// y = x ⊙ s + t, a learned factor and offset per unit (the affine half of batch normalization).
    /// Backward: dx = dy ⊙ s, ds = Σ_n dy ⊙ x, dt = Σ_n dy.
    /// </summary>
    private sealed class Scale<T> : ILayer<T>, IDescribedComponent, IOnnxNodes
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public const string KindName = "test_scale";

        public Scale(int size, string prefix, double initialFactor = 1)
        {
            var factors = new Matrix<T>(1, size);
            factors.Span.Fill(T.CreateChecked(initialFactor));
            Factors = new Parameter<T>(prefix + "s", factors, isRegularized: false);
            Offsets = new Parameter<T>(prefix + "t", new Matrix<T>(1, size), isRegularized: false);
            // Offsets away from 0, so the gradient check sees them matter.
            for (int j = 0; j < size; j++)
                Offsets.Value.Span[j] = T.CreateChecked(0.01 * j);
        }

        public Parameter<T> Factors { get; }

        public Parameter<T> Offsets { get; }

        public int InputCount => Factors.Value.Columns;

        public int OutputCount => InputCount;

        public IReadOnlyList<Parameter<T>> Parameters => [Factors, Offsets];

        public string Kind => KindName;

        public string Prefix => Factors.Name[..^1];

        public void Forward(ReadOnlyMatrixSpan<T> input, MatrixSpan<T> output)
        {
            for (int n = 0; n < input.Rows; n++)
                for (int j = 0; j < InputCount; j++)
                    output.Row(n)[j] = input.Row(n)[j] * Factors.Value.Span[j] + Offsets.Value.Span[j];
        }

        public void Backward(ReadOnlyMatrixSpan<T> input, ReadOnlyMatrixSpan<T> output, ReadOnlyMatrixSpan<T> outputGradient, MatrixSpan<T> inputGradient)
        {
            var ds = Factors.Gradient.Span;
            var dt = Offsets.Gradient.Span;
            ds.Clear();
            dt.Clear();
            for (int n = 0; n < input.Rows; n++)
                for (int j = 0; j < InputCount; j++)
                {
                    T dy = outputGradient.Row(n)[j];
                    ds[j] += dy * input.Row(n)[j];
                    dt[j] += dy;
                    if (!inputGradient.IsEmpty)
                        inputGradient.Row(n)[j] = dy * Factors.Value.Span[j];
                }
        }

        public ILayer<T> Clone()
        {
            var copy = new Scale<T>(InputCount, Prefix);
            Factors.Value.Span.CopyTo(copy.Factors.Value.Span);
            Offsets.Value.Span.CopyTo(copy.Offsets.Value.Span);
            return copy;
        }

        public void Describe(ComponentDescription description)
        {
            description.Set("size", InputCount);
            description.Set("prefix", Prefix);
        }

        public string AddOnnxNodes(IOnnxGraph graph, string input, string output)
        {
            string scaled = graph.Node("Mul", [input, graph.Initializer<T>(Factors.Name, [InputCount], Factors.Value.Span)], $"{output}.scaled");
            return graph.Node("Add", [scaled, graph.Initializer<T>(Offsets.Name, [InputCount], Offsets.Value.Span)], output);
        }

        public override string ToString() => $"Scale({InputCount})";
    }

    private sealed class ScaleReader : ILayerReader
    {
        public IEnumerable<ParameterShape> Parameters(ComponentDescription description)
        {
            string prefix = description.Text("prefix");
            int size = description.Count("size");
            return [new(prefix + "s", 1, size), new(prefix + "t", 1, size)];
        }

        public ILayer<T> Read<T>(ComponentDescription description)
            where T : unmanaged, IFloatingPointIeee754<T> => new Scale<T>(description.Count("size"), description.Text("prefix"));
    }

    /// <summary>A layer that describes itself but whose kind nobody registered.</summary>
    private sealed class Unregistered(int size, string prefix) : ILayer<float>, IDescribedComponent
    {
        public int InputCount => size;
        public int OutputCount => size;
        public IReadOnlyList<Parameter<float>> Parameters => [];
        public string Kind => "unregistered";
        public void Forward(ReadOnlyMatrixSpan<float> input, MatrixSpan<float> output) => input.Span.CopyTo(output.Span);
        public void Backward(ReadOnlyMatrixSpan<float> input, ReadOnlyMatrixSpan<float> output, ReadOnlyMatrixSpan<float> outputGradient, MatrixSpan<float> inputGradient) =>
            outputGradient.Span.CopyTo(inputGradient.Span);
        public ILayer<float> Clone() => new Unregistered(size, prefix);
        public void Describe(ComponentDescription description) => description.Set("size", size);
    }
}
