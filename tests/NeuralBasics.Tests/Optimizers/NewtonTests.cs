using NeuralBasics.Data;
using NeuralBasics.Diagnostics;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Scoring;
using NeuralBasics.Training;

namespace NeuralBasics.Tests.Optimizers;

public class NewtonTests
{
    private static DataSet<double> Problem() =>
        // Overlapping blobs: not separable, so the softmax optimum is finite even with small λ.
        SyntheticData.Blobs<double>(pointsPerClass: 100, classCount: 3, featureCount: 4, spread: 6, seed: 11);

    /// <summary>∇f of data loss + λΣW², assembled from the independently tested forward/backward pieces.</summary>
    private static double GradientNorm(LinearScore<double> score, ILoss loss, double lambda, DataSet<double> data)
    {
        var s = new Matrix<double>(data.Count, score.ClassCount);
        var ds = new Matrix<double>(data.Count, score.ClassCount);
        score.Forward(data.Features, s);
        loss.Compute<double>(s, data.Labels, ds);
        score.Backward(data.Features, ds, default);
        new L2Regularization(lambda).AddGradient<double>(score.Weights.Value.Span, score.Weights.Gradient.Span);
        double sum = 0;
        foreach (var p in score.Parameters)
            foreach (double g in p.Gradient.Span)
                sum += g * g;
        return Math.Sqrt(sum);
    }

    [Fact]
    public void SoftmaxRegression_ReachesGradientNorm1e8_Within20Iterations_AndMatchesAdam()
    {
        var data = Problem();
        const double lambda = 0.01;
        var newtonScore = new LinearScore<double>(4, 3, seed: 1);
        var result = new Trainer<double>(newtonScore, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(lambda), new Newton(),
            new TrainerOptions { Epochs = 20 }).Train(data);
        double norm = GradientNorm(newtonScore, SoftmaxCrossEntropyLoss.Instance, lambda, data);
        Assert.True(norm < 1e-8, $"gradient norm {norm} after {result.History.Epochs.Count} iterations");
        Assert.True(result.History.Epochs.Count <= 20);

        // Full-batch Adam with a decaying rate, run long, lands on the same optimum.
        var adamScore = new LinearScore<double>(4, 3, seed: 1);
        new Trainer<double>(adamScore, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(lambda),
            new Adam(new ExponentialDecay(0.05, 0.9997)), new TrainerOptions { Epochs = 20000, BatchSize = data.Count, Shuffle = false }).Train(data);
        var wNewton = newtonScore.Weights.Value.Span.ToArray();
        var wAdam = adamScore.Weights.Value.Span.ToArray();
        for (int k = 0; k < wNewton.Length; k++)
            Assert.True(Math.Abs(wNewton[k] - wAdam[k]) < 1e-4, $"W[{k}]: Newton {wNewton[k]}, Adam {wAdam[k]}");
        // The biases are fixed only up to a common shift (softmax ignores it): compare them centred.
        double[] Centred(LinearScore<double> s) { var b = s.Biases.Value.Span.ToArray(); double m = b.Average(); return b.Select(v => v - m).ToArray(); }
        var bNewton = Centred(newtonScore);
        var bAdam = Centred(adamScore);
        for (int c = 0; c < 3; c++)
            Assert.True(Math.Abs(bNewton[c] - bAdam[c]) < 1e-4, $"b[{c}]: Newton {bNewton[c]}, Adam {bAdam[c]}");
    }

    [Fact]
    public void NewtonConvergesQuadratically()
    {
        // The loss gap to the optimum should at least square (roughly) from one iteration to the next near the end.
        var data = Problem();
        var score = new LinearScore<double>(4, 3, seed: 1);
        var history = new Trainer<double>(score, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(0.01), new Newton(),
            new TrainerOptions { Epochs = 30 }).Train(data).History;
        Assert.True(history.Epochs.Count < 15, $"{history.Epochs.Count} iterations");
        double[] losses = history.Epochs.Select(e => e.TotalLoss).ToArray();
        for (int i = 1; i < losses.Length; i++)
            Assert.True(losses[i] <= losses[i - 1] + 1e-15, $"the loss rose at iteration {i + 1}");
    }

    [Fact]
    public void SquaredHinge_ConvergesWithTheGeneralizedHessian()
    {
        var data = Problem();
        var score = new LinearScore<double>(4, 3, seed: 2);
        var loss = new SquaredHingeLoss();
        new Trainer<double>(score, loss, new L2Regularization(0.01), new Newton(), new TrainerOptions { Epochs = 50 }).Train(data);
        double norm = GradientNorm(score, loss, 0.01, data);
        Assert.True(norm < 1e-8, $"gradient norm {norm}");
    }

    [Fact]
    public void WithoutRegularization_TheDampedSolveStillConverges()
    {
        var data = Problem();
        var score = new LinearScore<double>(4, 3, seed: 3);
        new Trainer<double>(score, SoftmaxCrossEntropyLoss.Instance, null, new Newton(), new TrainerOptions { Epochs = 50 }).Train(data);
        Assert.True(GradientNorm(score, SoftmaxCrossEntropyLoss.Instance, 0, data) < 1e-8);
    }

    public static TheoryData<int> Seeds() => new() { 1, 2, 3 };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void ScoreHessians_MatchCentralDifferencesOfTheGradient(int seed)
    {
        foreach (ISecondOrderLoss loss in new ISecondOrderLoss[]
        {
            SoftmaxCrossEntropyLoss.Instance, new SquaredHingeLoss(0.5), new SoftmaxCrossEntropyLoss([1, 2, 0.5, 3]), new SquaredHingeLoss(1, [2, 1, 1, 0.5]),
        })
        {
            const int c = 4;
            var scores = TestData.Uniform<double>(1, c, seed, scale: 2);
            int label = seed % c;
            var hessian = new double[c * c];
            loss.ScoreHessian(scores.Span, label, hessian);
            for (int j = 0; j < c; j++)
            {
                int row = j;
                double GradientEntry()
                {
                    var g = new Matrix<double>(1, c);
                    loss.Compute<double>(scores, [label], g);
                    return g[0, row];
                }
                var result = GradientCheck.Check(GradientEntry, scores.Memory, hessian.AsSpan(j * c, c));
                Assert.True(result.MaxRelativeError < 1e-6, $"{loss} row {j}: {result}");
            }
        }
    }

    [Fact]
    public void TooManyParameters_IsRefusedWithAClearMessage()
    {
        var data = SyntheticData.Blobs<double>(5, 10, featureCount: 400, seed: 1);
        var trainer = new Trainer<double>(new LinearScore<double>(400, 10), SoftmaxCrossEntropyLoss.Instance, null, new Newton());
        var e = Assert.Throws<ArgumentException>(() => trainer.Train(data));
        Assert.Contains("4010", e.Message);
        Assert.Contains("first-order", e.Message);
        Assert.Contains("MaxParameters", e.Message);
    }

    [Fact]
    public void UnsupportedComponents_AreRefused()
    {
        var data = Problem();
        Assert.Throws<ArgumentException>(() =>
            new Trainer<double>(new LinearScore<double>(4, 3), new MulticlassHingeLoss(), null, new Newton()).Train(data));
        var e = Assert.Throws<NotSupportedException>(() => new Newton().Apply<double>(new double[2], new double[2], new Newton().CreateState<double>(2)));
        Assert.Contains("Trainer", e.Message);
    }
}
