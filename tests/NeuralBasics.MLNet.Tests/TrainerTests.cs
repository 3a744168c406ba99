using Microsoft.ML;
using Microsoft.ML.Data;
using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Layers;
using NeuralBasics.Training;

namespace NeuralBasics.MLNet.Tests;

/// <summary>The trainer inside an ML.NET pipeline, evaluated by ML.NET, on the committed Fashion-MNIST subset.</summary>
public sealed class TrainerTests
{
    private static readonly string Subset = Path.Combine(AppContext.BaseDirectory, "TestData", "fashion-mnist-subset");

    public sealed class Image
    {
        [VectorType(784)]
        public float[] Features { get; set; } = [];

        public float Label { get; set; }
    }

    private static Image[] Images(DataSet<float> data) =>
        [.. Enumerable.Range(0, data.Count).Select(i => new Image { Features = data.Features.Row(i).ToArray(), Label = data.Labels[i] })];

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]   // the rows are 28 x 28 images to the network; ML.NET sees 784 features as before
    public void InAPipeline_TheNetworkTrains_AndMLNetsEvaluateAgreesWithTheModel(string architecture)
    {
        var (train, test) = FashionMnist.Load<float>(Subset, trainLimit: 2000, testLimit: 500);
        var ml = new MLContext(seed: 1);
        var trainView = ml.Data.LoadFromEnumerable(Images(train));
        var testView = ml.Data.LoadFromEnumerable(Images(test));
        var options = new NeuralBasicsTrainerOptions
        {
            Network = architecture == "mlp"
                ? (inputs, classes) => new NetworkBuilder<float>(inputs, seed: 2).Dense(64, new Relu()).Dense(classes).Build()
                : (_, classes) => new NetworkBuilder<float>(new ImageShape(1, 28, 28), seed: 2).Conv2D(8, 3, padding: 1, new Relu()).MaxPool2D(2).Dense(classes).Build(),
            Trainer = new TrainerOptions { Epochs = 4, BatchSize = 64, Seed = 3 },
        };
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: Microsoft.ML.Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Append(new NeuralBasicsTrainer(ml, options));
        var fitted = pipeline.Fit(trainView);
        var predictions = fitted.Transform(testView);
        var metrics = ml.MulticlassClassification.Evaluate(predictions);

        // Keys by value: key k is class k − 1, so the NeuralBasics model scores the test set the same way.
        var model = fitted.LastTransformer.Model;
        var report = model.Evaluate(test);
        Assert.Equal(report.Accuracy, metrics.MicroAccuracy, 9);
        Assert.Equal(report.LogLoss!.Value, metrics.LogLoss, 4);
        Assert.True(metrics.MicroAccuracy > 0.75, $"{metrics.MicroAccuracy:P1}");
        Assert.Equal(4, fitted.LastTransformer.History.Epochs.Count);

        var schema = predictions.Schema;
        Assert.Equal(10, ((VectorDataViewType)schema["Score"].Type).Size);
        Assert.IsType<KeyDataViewType>(schema["PredictedLabel"].Type);
    }

    [Fact]
    public void AMissingOrWrongColumn_IsNamed()
    {
        var ml = new MLContext(seed: 1);
        var view = ml.Data.LoadFromEnumerable(new[] { new Image { Features = new float[784], Label = 1 } });
        var e = Assert.Throws<ArgumentException>(() => new NeuralBasicsTrainer(ml).Fit(view));
        Assert.Contains("must be a key", e.Message);
        Assert.Throws<ArgumentException>(() => new NeuralBasicsTrainer(ml, new NeuralBasicsTrainerOptions { FeatureColumnName = "Pixels" }).Fit(view));
    }
}
