using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.OnnxRuntime;
using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Models;
using NeuralBasics.Optimizers;
using NeuralBasics.Scoring;
using NeuralBasics.Training;

namespace NeuralBasics.Onnx.Tests;

/// <summary>Every architecture the library trains, exported and run by ONNX Runtime on the committed Fashion-MNIST subset.</summary>
public sealed class OnnxExportTests
{
    private static readonly string Subset = Path.Combine(AppContext.BaseDirectory, "TestData", "fashion-mnist-subset");
    private static readonly (DataSet<float> Train, DataSet<float> Test) Data = FashionMnist.Load<float>(Subset, trainLimit: 1500, testLimit: 500);

    public static TheoryData<string> Architectures() => new(["linear", "relu", "sigmoid", "tanh", "leaky", "maxout", "prelu", "dropout", "hinge", "cnn"]);

    private static Classifier<float> Trained(string architecture)
    {
        var train = Data.Train;
        IScoreFunction<float> score = architecture switch
        {
            "linear" or "hinge" => new LinearScore<float>(784, 10, seed: 1),
            "relu" => new NetworkBuilder<float>(784, seed: 1).Dense(64, new Relu()).Dense(10).Build(),
            "sigmoid" => new NetworkBuilder<float>(784, seed: 1).Dense(32, new Sigmoid()).Dense(10).Build(),
            "tanh" => new NetworkBuilder<float>(784, seed: 1).Dense(32, new Tanh()).Dense(10).Build(),
            "leaky" => new NetworkBuilder<float>(784, seed: 1).Dense(32, new LeakyRelu(0.1)).Dense(10).Build(),
            "maxout" => new NetworkBuilder<float>(784, seed: 1).Maxout(24, pieces: 3).Dense(10).Build(),
            "prelu" => new NetworkBuilder<float>(784, seed: 1).Dense(32, init: WeightInit.He).PRelu().Dense(10).Build(),
            "dropout" => new NetworkBuilder<float>(784, seed: 1).Dense(64, new Relu()).Dropout(0.3).Dense(10).Build(),
            // Padding 1, then stride 2 (14x14 → 6x6), several channels.
            "cnn" => new NetworkBuilder<float>(new ImageShape(1, 28, 28), seed: 1).Conv2D(4, 3, padding: 1, new Relu()).MaxPool2D(2)
                .Conv2D(6, 3, activation: new Tanh(), stride: 2).MaxPool2D(2).Flatten().Dense(10).Build(),
            _ => throw new ArgumentException(architecture),
        };
        ILoss loss = architecture == "hinge" ? new MulticlassHingeLoss() : SoftmaxCrossEntropyLoss.Instance;
        // The linear model is standardized, so the export's first nodes are exercised too.
        Standardizer? standardizer = architecture == "linear" ? Standardizer.Fit(train) : null;
        var data = standardizer is null ? train : standardizer.Transform(train);
        // The small CNN learns slower from 1,500 images: a larger rate.
        var rule = new Adam(architecture == "cnn" ? 5e-3 : 1e-3);
        var result = new Trainer<float>(score, loss, null, rule, new TrainerOptions { Epochs = 2, BatchSize = 64, Seed = 1 }).Train(data);
        return result.Model.WithPreprocessing(standardizer, FashionMnist.ClassNames);
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void TheExportedModel_RunInOnnxRuntime_PredictsTheSameClasses_AndProbabilitiesWithin1e5(string architecture)
    {
        var model = Trained(architecture);
        var test = Data.Test;
        using var stream = new MemoryStream();
        OnnxExport.Save(model, stream);
        using var session = new InferenceSession(stream.ToArray());
        var input = new DenseTensor<float>(test.Features.Span.ToArray(), [test.Count, 784]);
        using var outputs = session.Run([NamedOnnxValue.CreateFromTensor("features", input)]);

        float[] scores = [.. outputs.Single(o => o.Name == "scores").AsEnumerable<float>()];
        var ours = model.Scores(test.Features);
        int[] predicted = model.Predict(test.Features);
        for (int i = 0; i < test.Count; i++)
        {
            var row = scores.AsSpan(i * 10, 10);
            Assert.Equal(predicted[i], System.Numerics.Tensors.TensorPrimitives.IndexOfMax<float>(row));
            for (int c = 0; c < 10; c++)
                Assert.True(Math.Abs(ours[i, c] - row[c]) <= 1e-4 * Math.Max(1, Math.Abs(ours[i, c])), $"{architecture}: sample {i} class {c}: {ours[i, c]} vs {row[c]}");
        }
        if (architecture == "hinge")
        {
            Assert.DoesNotContain(outputs, o => o.Name == "probabilities");
            return;
        }
        float[] probabilities = [.. outputs.Single(o => o.Name == "probabilities").AsEnumerable<float>()];
        var expected = model.Probabilities(test.Features);
        for (int k = 0; k < probabilities.Length; k++)
            Assert.True(Math.Abs(expected.Span[k] - probabilities[k]) <= 1e-5, $"{architecture}: probability {k}: {expected.Span[k]} vs {probabilities[k]}");
        Assert.True(model.Accuracy(test) > 0.5, $"{architecture}: the model trained to {model.Accuracy(test):P1}");
    }

    [Fact]
    public void AFile_IsWrittenWithTheClassNames_AndUnknownLayersAreRefused()
    {
        var model = Trained("relu");
        string path = Path.Combine(Path.GetTempPath(), $"neuralbasics-{Guid.NewGuid():N}.onnx");
        try
        {
            OnnxExport.Save(model, path);
            using var session = new InferenceSession(path);
            Assert.Equal(["features"], session.InputMetadata.Keys);
            Assert.Equal(["scores", "probabilities"], session.OutputMetadata.Keys);
            Assert.Contains("Ankle boot", session.ModelMetadata.CustomMetadataMap["class_names"]);
        }
        finally
        {
            File.Delete(path);
        }
        var odd = new Classifier<float>(new Sequential<float>(new Dense<float>(784, 10, WeightInit.He), new Odd()), SoftmaxCrossEntropyLoss.Instance);
        Assert.Throws<NotSupportedException>(() => OnnxExport.Build(odd));
    }

    /// <summary>A layer ONNX export does not know.</summary>
    private sealed class Odd : ILayer<float>
    {
        public int InputCount => 10;
        public int OutputCount => 10;
        public IReadOnlyList<Parameter<float>> Parameters => [];
        public void Forward(ReadOnlyMatrixSpan<float> input, MatrixSpan<float> output) => input.Span.CopyTo(output.Span);
        public void Backward(ReadOnlyMatrixSpan<float> input, ReadOnlyMatrixSpan<float> output, ReadOnlyMatrixSpan<float> outputGradient, MatrixSpan<float> inputGradient) { }
        public ILayer<float> Clone() => new Odd();
    }
}
