using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Diagnostics;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Models;
using NeuralBasics.Optimizers;
using NeuralBasics.Training;

namespace NeuralBasics.Tests.Layers;

/// <summary>Inverted dropout: identity at inference, kept values scaled by 1/(1 − p) in training, the mask's gradient, seeds, files.</summary>
[Collection(AllocationCollection.Name)]
public class DropoutTests
{
    [Fact]
    public void AtInference_ThePassIsTheIdentity_InTraining_ValuesAreDroppedOrScaled()
    {
        var layer = new Dropout<double>(1000, rate: 0.3, seed: 5);
        var x = TestData.Uniform<double>(100, 1000, 1, scale: 3);
        var y = new Matrix<double>(100, 1000);
        layer.Forward(x, y);
        Assert.Equal(x.Span.ToArray(), y.Span.ToArray());

        layer.IsTraining = true;
        layer.Forward(x, y);
        int dropped = 0;
        for (int i = 0; i < x.Span.Length; i++)
        {
            if (y.Span[i] == 0)
                dropped++;
            else
                Assert.True(Math.Abs(x.Span[i] / 0.7 - y.Span[i]) <= 1e-15 * Math.Abs(y.Span[i]) + 1e-300, $"{x.Span[i]} -> {y.Span[i]}");
        }
        // 100,000 draws at p = 0.3: the count's standard deviation is about 145.
        Assert.InRange(dropped, 30_000 - 1_000, 30_000 + 1_000);
    }

    [Fact]
    public void TheMask_IsSeeded_AndTheGradientGoesThroughTheSameMask()
    {
        var x = TestData.Uniform<double>(8, 50, 2);
        Matrix<double> Masked(int seed)
        {
            var layer = new Dropout<double>(50, 0.5, seed) { IsTraining = true };
            var y = new Matrix<double>(8, 50);
            layer.Forward(x, y);
            return y;
        }
        Assert.Equal(Masked(7).Span.ToArray(), Masked(7).Span.ToArray());
        Assert.NotEqual(Masked(7).Span.ToArray(), Masked(8).Span.ToArray());

        var dropout = new Dropout<double>(50, 0.5, 7) { IsTraining = true };
        var output = new Matrix<double>(8, 50);
        dropout.Forward(x, output);
        var dy = TestData.Uniform<double>(8, 50, 3);
        var dx = new Matrix<double>(8, 50);
        dropout.Backward(x, output, dy, dx);
        for (int i = 0; i < dx.Span.Length; i++)
            Assert.True(Math.Abs(dy.Span[i] * output.Span[i] / x.Span[i] - dx.Span[i]) <= 1e-14 * Math.Abs(dy.Span[i]), $"element {i}");
    }

    [Fact]
    public void ANetworkWithDropout_PassesTheGradientChecker_ForAFixedMask()
    {
        // Clones start their generator where the original stands, so every evaluation below draws the same mask.
        var net = new NetworkBuilder<double>(4, seed: 2).Dense(8, new Relu()).Dropout(0.4).Dense(3).Build();
        var x = TestData.Uniform<double>(6, 4, 4, scale: 1.5);
        int[] y = [0, 1, 2, 1, 0, 2];
        double Objective()
        {
            var copy = net.Clone();
            copy.IsTraining = true;
            var s = new Matrix<double>(6, 3);
            copy.Forward(x, s);
            return SoftmaxCrossEntropyLoss.Instance.Compute<double>(s, y, default);
        }
        var trained = net.Clone();
        trained.IsTraining = true;
        var scores = new Matrix<double>(6, 3);
        var dScores = new Matrix<double>(6, 3);
        trained.Forward(x, scores);
        SoftmaxCrossEntropyLoss.Instance.Compute<double>(scores, y, dScores);
        trained.Backward(x, dScores, default);
        for (int k = 0; k < net.Parameters.Count; k++)
        {
            var result = GradientCheck.Check(Objective, net.Parameters[k].Value.Memory, trained.Parameters[k].Gradient.Span, step: 1e-5, sampleSize: 40, seed: k);
            Assert.True(result.MaxRelativeError < 1e-6, $"{net.Parameters[k].Name}: {result}");
        }
    }

    [Fact]
    public void Training_UsesDropout_PredictionDoesNot_TheWarmStepAllocatesNothing_AndTheFileKeepsIt()
    {
        var data = SyntheticData.Spiral<float>(pointsPerClass: 100, classCount: 3, seed: 1);
        var net = new NetworkBuilder<float>(2, seed: 1).Dense(64, new Relu()).Dropout(0.2).Dense(3).Build();
        var result = new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.01),
            new TrainerOptions { Epochs = 150, BatchSize = 32, Seed = 1 }).Train(data);
        Assert.True(result.Model.Accuracy(data) > 0.9, $"{result.Model.Accuracy(data):P1}");
        Assert.False(net.IsTraining);
        // Prediction is deterministic: the same scores twice.
        Assert.Equal(result.Model.Scores(data.Features).Span.ToArray(), result.Model.Scores(data.Features).Span.ToArray());

        var step = new TrainingStep<float>(net, SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.01));
        var x = data.Features.AsReadOnlySpan().SliceRows(0, 32);
        var labels = data.Labels[..32].ToArray();
        for (int i = 0; i < 5; i++)
            step.Run(x, labels);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++)
            step.Run(x, labels);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        string path = Path.Combine(Path.GetTempPath(), $"dropout-{Guid.NewGuid():N}.safetensors");
        try
        {
            result.Model.Save(path);
            var loaded = Classifier<float>.Load(path);
            Assert.Equal(result.Model.Scores(data.Features).Span.ToArray(), loaded.Scores(data.Features).Span.ToArray());
            Assert.Contains("Dropout(64, p = 0.2)", loaded.ToString());
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout<float>(4, 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout<float>(4, -0.1));
    }
}
