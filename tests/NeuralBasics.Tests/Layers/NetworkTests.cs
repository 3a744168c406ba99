using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Diagnostics;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Models;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Scoring;
using NeuralBasics.Training;

namespace NeuralBasics.Tests.Layers;

public class NetworkTests
{
    private static IActivation Activation(string name) => name switch
    {
        "sigmoid" => new Sigmoid(),
        "tanh" => new Tanh(),
        "relu" => new Relu(),
        _ => new LeakyRelu(0.1),
    };

    private static ILoss Loss(string name) => name switch
    {
        "softmax" => SoftmaxCrossEntropyLoss.Instance,
        "hinge" => new MulticlassHingeLoss(),
        _ => new SquaredHingeLoss(),
    };

    public static TheoryData<int, string, string> Networks()
    {
        var data = new TheoryData<int, string, string>();
        foreach (int depth in new[] { 2, 3 })
            foreach (string activation in new[] { "sigmoid", "tanh", "relu", "leaky" })
                foreach (string loss in new[] { "softmax", "hinge", "squared" })
                    data.Add(depth, activation, loss);
        return data;
    }

    /// <summary>Checks every parameter gradient and the input gradient of the full objective (data loss + L2) against central differences.</summary>
    private static void CheckGradients(IScoreFunction<double> net, ILoss loss, int n, int seed)
    {
        var x = TestData.Uniform<double>(n, net.InputCount, seed, scale: 1.5);
        var random = new Random(seed);
        int[] y = Enumerable.Range(0, n).Select(_ => random.Next(net.ClassCount)).ToArray();
        var l2 = new L2Regularization(0.05);

        double Objective()
        {
            var s = new Matrix<double>(n, net.ClassCount);
            net.Forward(x, s);
            double penalty = net.Parameters.Where(p => p.IsRegularized).Sum(p => l2.Penalty<double>(p.Value.Span));
            return loss.Compute<double>(s, y, default) + penalty;
        }

        var scores = new Matrix<double>(n, net.ClassCount);
        var dScores = new Matrix<double>(n, net.ClassCount);
        var dX = new Matrix<double>(n, net.InputCount);
        net.Forward(x, scores);
        loss.Compute<double>(scores, y, dScores);
        net.Backward(x, dScores, dX);
        foreach (var p in net.Parameters.Where(p => p.IsRegularized))
            l2.AddGradient<double>(p.Value.Span, p.Gradient.Span);

        var analytic = net.Parameters.Select(p => (p.Name, p.Value.Memory, Gradient: p.Gradient.Span.ToArray())).ToList();
        analytic.Add(("X", x.Memory, dX.Span.ToArray()));
        foreach (var (name, values, gradient) in analytic)
        {
            var result = GradientCheck.Check(Objective, values, gradient, step: 1e-5, sampleSize: 60, seed: seed);
            Assert.True(result.MaxRelativeError < 1e-6, $"{net}, {loss}, d{name}: {result}");
        }
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Backprop_MatchesCentralDifferences(int depth, string activation, string loss)
    {
        var builder = new NetworkBuilder<double>(inputs: 5, seed: depth).Dense(7, Activation(activation));
        if (depth == 3)
            builder.Dense(6, Activation(activation));
        var net = builder.Dense(3).Build();
        CheckGradients(net, Loss(loss), n: 4, seed: depth * 10 + activation.Length);
    }

    [Theory]
    [InlineData(2, "softmax")]
    [InlineData(3, "softmax")]
    [InlineData(2, "squared")]
    [InlineData(3, "hinge")]
    public void Maxout_BackpropMatchesCentralDifferences(int pieces, string loss)
    {
        var net = new NetworkBuilder<double>(inputs: 4, seed: pieces).Maxout(6, pieces).Maxout(5, pieces).Dense(3).Build();
        CheckGradients(net, Loss(loss), n: 5, seed: pieces);
    }

    [Theory]
    [InlineData("softmax")]
    [InlineData("hinge")]
    public void PRelu_BackpropMatchesCentralDifferences_ForInputsAndSlopes(string loss)
    {
        var net = new NetworkBuilder<double>(inputs: 4, seed: 9).Dense(6, init: WeightInit.He).PRelu().Dense(3).Build();
        // Slopes of both signs and sizes, so every unit's slope gradient is exercised.
        var slopes = ((PRelu<double>)net.Layers[1]).Slopes.Value.Span;
        for (int j = 0; j < slopes.Length; j++)
            slopes[j] = -0.3 + 0.2 * j;
        CheckGradients(net, Loss(loss), n: 7, seed: 21);
    }

    [Fact]
    public void PRelu_PassesPositivesAndScalesNegativesByItsSlope_AndSavesItsSlopes()
    {
        var layer = new PRelu<double>(2, namePrefix: "1.");
        Assert.Equal([0.25, 0.25], layer.Slopes.Value.Span.ToArray());
        Assert.False(layer.Slopes.IsRegularized);
        Assert.Equal("1.a", layer.Slopes.Name);
        layer.Slopes.Value.Span[1] = 0.5;
        var y = new Matrix<double>(2, 2);
        layer.Forward(Matrix<double>.FromArray(new double[,] { { -2, 3 }, { 4, -6 } }), y);
        Assert.Equal([-0.5, 3, 4, -3], y.Span.ToArray());

        var net = new NetworkBuilder<double>(inputs: 2, seed: 3).Dense(5, init: WeightInit.He).PRelu(0.1).Dense(3).Build();
        var slopes = ((PRelu<double>)net.Layers[1]).Slopes.Value.Span;
        for (int j = 0; j < slopes.Length; j++)
            slopes[j] = 0.05 * j;
        string path = Path.Combine(Path.GetTempPath(), $"prelu-{Guid.NewGuid():N}.safetensors");
        try
        {
            var model = new Classifier<double>(net, SoftmaxCrossEntropyLoss.Instance);
            model.Save(path);
            var loaded = Classifier<double>.Load(path);
            var x = TestData.Uniform<double>(6, 2, 4, scale: 2);
            Assert.Equal(model.Scores(x).Span.ToArray(), loaded.Scores(x).Span.ToArray());
            Assert.Equal(slopes.ToArray(), loaded.ParameterValues()["1.a"].Span.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Maxout_ForwardIsTheMaxOfItsPieces()
    {
        var layer = new Maxout<double>(2, 1, pieces: 3, WeightInit.Gaussian(1));
        // Pieces: 1·x1 + 0·x2 + 0, 0·x1 + 1·x2 + 0, −1·x1 − 1·x2 + 0.5.
        new double[] { 1, 0, -1, 0, 1, -1 }.CopyTo(layer.Weights.Value.Span);
        new double[] { 0, 0, 0.5 }.CopyTo(layer.Biases.Value.Span);
        var x = Matrix<double>.FromArray(new double[,] { { 2, 1 }, { -1, 3 }, { -2, -2 } });
        var y = new Matrix<double>(3, 1);
        layer.Forward(x, y);
        Assert.Equal(new double[] { 2, 3, 4.5 }, y.Span.ToArray());

        // The gradient goes to the winner only: sample 0 → piece 0, so dW column 0 gets x0.
        var dx = new Matrix<double>(3, 2);
        layer.Backward(x, y, Matrix<double>.FromArray(new double[,] { { 1 }, { 0 }, { 0 } }), dx);
        Assert.Equal(new double[] { 2, 0, 0, 1, 0, 0 }, layer.Weights.Gradient.Span.ToArray());
        Assert.Equal(new double[] { 1, 0, 0, 0, 0, 0 }, dx.Span.ToArray());
    }

    [Fact]
    public void OneDenseLayer_IsTheLinearClassifier()
    {
        var linear = new LinearScore<double>(3, 4, weightScale: 0.3, seed: 2);
        var dense = new Dense<double>(3, 4, WeightInit.Gaussian(0.3), seed: 2);
        var net = new Sequential<double>(dense);
        var x = TestData.Uniform<double>(6, 3, 1);
        var a = new Matrix<double>(6, 4);
        var b = new Matrix<double>(6, 4);
        linear.Forward(x, a);
        net.Forward(x, b);
        Assert.Equal(a.Span.ToArray(), b.Span.ToArray());
    }

    [Fact]
    public void Initialization_FollowsTheActivation()
    {
        var net = new NetworkBuilder<double>(inputs: 400, seed: 1).Dense(300, new Relu()).Dense(200, new Tanh()).Dense(10).Build();
        double Std(int layer) { var w = ((Dense<double>)net.Layers[layer]).Weights.Value.Span.ToArray(); return Math.Sqrt(w.Select(v => v * v).Average()); }
        // Sample standard deviations of 120,000, 60,000 and 2,000 draws: within 2%, 2% and 5%.
        Assert.InRange(Std(0) / Math.Sqrt(2.0 / 400), 0.98, 1.02);          // He after ReLU
        Assert.InRange(Std(2) / Math.Sqrt(2.0 / (300 + 200)), 0.98, 1.02);  // Glorot before tanh
        Assert.InRange(Std(4) / Math.Sqrt(2.0 / (200 + 10)), 0.95, 1.05);   // Glorot for the linear output
        var again = new NetworkBuilder<double>(inputs: 400, seed: 1).Dense(300, new Relu()).Dense(200, new Tanh()).Dense(10).Build();
        Assert.Equal(net.Parameters[0].Value.Span.ToArray(), again.Parameters[0].Value.Span.ToArray());
        var overridden = new NetworkBuilder<double>(inputs: 400).Dense(300, new Relu(), WeightInit.Gaussian(0.5)).Dense(2).Build();
        Assert.Equal(0.5, Math.Sqrt(overridden.Parameters[0].Value.Span.ToArray().Select(v => v * v).Average()), 2);
    }

    [Fact]
    public void MismatchedLayers_AreRefused()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            new Sequential<float>(new Dense<float>(4, 5, WeightInit.He), new Dense<float>(6, 3, WeightInit.He, namePrefix: "1.")));
        Assert.Contains("6 inputs", e.Message);
        Assert.Throws<ArgumentException>(() => new Sequential<float>(new Dense<float>(4, 5, WeightInit.He), new Dense<float>(5, 3, WeightInit.He)));
        Assert.Throws<ArgumentException>(() => new Sequential<float>());
        var net = new NetworkBuilder<float>(4).Dense(3).Build();
        Assert.Throws<ArgumentException>(() => net.Forward(new Matrix<float>(2, 5), new Matrix<float>(2, 3)));
    }

    [Fact]
    public void Spiral_TwoLayerNetworkReaches97Percent_WhereTheLinearClassifierStaysNear50()
    {
        var data = SyntheticData.Spiral<float>(pointsPerClass: 100, classCount: 3, seed: 1);
        var options = new TrainerOptions { Epochs = 300, BatchSize = 32, Seed = 1 };
        var net = new NetworkBuilder<float>(inputs: 2, seed: 1).Dense(100, new Relu()).Dense(3).Build();
        var netResult = new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-4), new Adam(0.01), options).Train(data);
        var linearResult = new Trainer<float>(new LinearScore<float>(2, 3), SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-4), new Adam(0.01), options).Train(data);
        Assert.True(netResult.History.Last!.TrainingAccuracy >= 0.97, netResult.History.Last.ToString());
        Assert.InRange(linearResult.History.Last!.TrainingAccuracy, 0.3, 0.6);
    }

    [Fact]
    public void TrainingStep_ReportsNonFiniteLosses_WithoutChangingAnything()
    {
        var net = new NetworkBuilder<double>(2, seed: 1).Dense(4, new Relu()).Dense(3).Build();
        var step = new TrainingStep<double>(net, SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.1));
        var before = net.Parameters[0].Value.Span.ToArray();
        var x = Matrix<double>.FromArray(new double[,] { { 1e308, -1e308 } });
        double loss = step.Run(x, [0]);
        Assert.True(double.IsNaN(loss));
        Assert.NotNull(step.LastProblem);
        Assert.Equal(before, net.Parameters[0].Value.Span.ToArray());
    }

    [Fact]
    public void TrainedNetworkClassifier_IsThreadSafe()
    {
        var data = SyntheticData.Spiral<double>(50, 3, seed: 2);
        var net = new NetworkBuilder<double>(2, seed: 3).Dense(20, new Tanh()).Dense(3).Build();
        var model = new Trainer<double>(net, SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.01), new TrainerOptions { Epochs = 20 }).Train(data).Model;
        var expected = model.Scores(data.Features).Span.ToArray();
        Parallel.For(0, 32, _ => Assert.Equal(expected, model.Scores(data.Features).Span.ToArray()));
    }
}
