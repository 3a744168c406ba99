using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Diagnostics;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Scoring;
using NeuralBasics.Training;

namespace NeuralBasics.Tests.Diagnostics;

/// <summary>The babysitting figures against values worked by hand.</summary>
public class NetworkDiagnosticsTests
{
    [Fact]
    public void TheSummary_CountsEachLayersParameters()
    {
        var net = new NetworkBuilder<float>(784, seed: 1).Dense(256, new Relu()).Dense(10).Build();
        string summary = NetworkDiagnostics.Summary(net);
        Assert.Contains("200,960", summary);   // 784·256 + 256
        Assert.Contains("2,570", summary);     // 256·10 + 10
        Assert.Contains("203,530", summary);
        Assert.Contains("ReLU", summary, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("7,850", NetworkDiagnostics.Summary(new LinearScore<float>(784, 10)));
    }

    [Fact]
    public void TheInitialLoss_OfZeroWeights_IsTheChanceValue_AndLargeWeightsAreFlagged()
    {
        var data = SyntheticData.Blobs<double>(20, 4, 3, seed: 2);
        var zero = new LinearScore<double>(3, 4);
        zero.Weights.Value.Span.Clear();
        var softmax = NetworkDiagnostics.InitialLoss(zero, SoftmaxCrossEntropyLoss.Instance, data);
        Assert.Equal(Math.Log(4), softmax.Loss, 12);
        Assert.Equal(Math.Log(4), softmax.Expected, 15);
        Assert.True(softmax.NearChance);
        Assert.Equal(80, softmax.Rows);
        // Zero scores: every wrong class costs Δ (hinge) or Δ² (squared hinge).
        Assert.Equal(3 * 2.0, NetworkDiagnostics.InitialLoss(zero, new MulticlassHingeLoss(2.0), data).Loss, 12);
        Assert.Equal(3 * 4.0, NetworkDiagnostics.InitialLoss(zero, new SquaredHingeLoss(2.0), data).Expected, 12);

        var large = new LinearScore<double>(3, 4, seed: 3);
        foreach (ref double w in large.Weights.Value.Span)
            w *= 1000;
        Assert.False(NetworkDiagnostics.InitialLoss(large, SoftmaxCrossEntropyLoss.Instance, data, rows: 10).NearChance);
    }

    [Fact]
    public void DeadReluUnits_AreThoseThatOutputZeroForEveryRow()
    {
        var net = new NetworkBuilder<double>(2, seed: 1).Dense(4, new Relu()).Dense(3).Build();
        var dense = (Dense<double>)net.Layers[0];
        dense.Weights.Value.Span.Clear();
        double[] biases = [-100, -1, 0.5, 3];   // units 0 and 1 never fire, 2 and 3 always
        biases.CopyTo(dense.Biases.Value.Span);
        var x = TestData.Uniform<double>(16, 2, 1);
        var fractions = NetworkDiagnostics.DeadReluFractions(net, x);
        Assert.Equal(new Dictionary<int, double> { [1] = 0.5 }, fractions);
    }

    [Fact]
    public void TheUpdateRatio_IsTheChangesNormOverTheWeightsNorm()
    {
        Assert.Equal(0.5 / Math.Sqrt(9 + 4.5 * 4.5), NetworkDiagnostics.UpdateRatio<double>([3, 4], [3, 4.5]), 15);
        Assert.Equal(0, NetworkDiagnostics.UpdateRatio<double>([0, 0], [0, 0]));
    }

    [Fact]
    public void TheTrainer_ReportsThemWhenAsked_AndOnlyThen()
    {
        var data = SyntheticData.Spiral<float>(pointsPerClass: 50, classCount: 3, seed: 1);
        var options = new TrainerOptions { Epochs = 3, BatchSize = 32, Seed = 1, Diagnose = true };
        var net = new NetworkBuilder<float>(2, seed: 1).Dense(16, new Relu()).Dense(3).Build();
        var untrained = net.Clone();
        var history = new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.01), options).Train(data).History;

        // Measured on the untrained network over the (150) rows; Glorot's output layer starts it above chance here.
        var scores = new Matrix<float>(data.Count, 3);
        untrained.Forward(data.Features, scores);
        Assert.Equal(SoftmaxCrossEntropyLoss.Instance.Compute<float>(scores, data.Labels, default), history.InitialLoss!.Loss, 5);
        Assert.Equal(Math.Log(3), history.InitialLoss.Expected, 12);
        foreach (var epoch in history.Epochs)
        {
            var d = epoch.Diagnostics!;
            Assert.Equal(net.Parameters.Select(p => p.Name), d.UpdateRatios.Keys);
            Assert.All(d.UpdateRatios.Values, r => Assert.InRange(r, 1e-6, 1));
            Assert.Equal([1], d.DeadReluFractions.Keys);
        }
        var plain = new Trainer<float>(net.Clone(), SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.01), options with { Diagnose = false }).Train(data).History;
        Assert.Null(plain.InitialLoss);
        Assert.All(plain.Epochs, e => Assert.Null(e.Diagnostics));
    }
}
