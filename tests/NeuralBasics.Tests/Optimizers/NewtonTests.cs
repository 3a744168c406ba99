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
        var result = NewtonMethod.Minimize(newtonScore, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(lambda), data,
            new NewtonOptions { MaxIterations = 20 });
        double norm = GradientNorm(newtonScore, SoftmaxCrossEntropyLoss.Instance, lambda, data);
        Assert.True(norm < 1e-8, $"gradient norm {norm} after {result.Iterations} iterations");
        Assert.True(result.Iterations <= 20);
        Assert.NotEqual(NewtonStopReason.IterationLimit, result.Reason);
        Assert.Equal(norm, result.GradientNorm, 1e-9);

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
        var iterations = new List<NewtonIteration>();
        var result = NewtonMethod.Minimize(score, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(0.01), data,
            new NewtonOptions { MaxIterations = 30 }, new Reporter(iterations.Add));
        Assert.True(result.Iterations < 15, $"{result.Iterations} iterations");
        Assert.Equal(result.Iterations, iterations.Count);
        Assert.Equal(Enumerable.Range(1, iterations.Count), iterations.Select(i => i.Iteration));
        double[] losses = [.. iterations.Select(i => i.Objective)];
        for (int i = 1; i < losses.Length; i++)
            Assert.True(losses[i] <= losses[i - 1] + 1e-15, $"the loss rose at iteration {i + 1}");
        Assert.Equal(losses[^1], result.Objective);
        // Quadratic convergence: the gradient norm at least squares (up to a constant) near the optimum.
        var norms = iterations.Select(i => i.GradientNorm).Where(g => g > 1e-12).ToArray();
        Assert.True(norms.Length >= 3 && norms[^1] < 1e-3 * norms[^3], string.Join(", ", norms));
    }

    [Fact]
    public void SquaredHinge_ConvergesWithTheGeneralizedHessian()
    {
        var data = Problem();
        var score = new LinearScore<double>(4, 3, seed: 2);
        var loss = new SquaredHingeLoss();
        NewtonMethod.Minimize(score, loss, new L2Regularization(0.01), data, new NewtonOptions { MaxIterations = 50 });
        double norm = GradientNorm(score, loss, 0.01, data);
        Assert.True(norm < 1e-8, $"gradient norm {norm}");
    }

    [Fact]
    public void WithoutRegularization_TheDampedSolveStillConverges()
    {
        var data = Problem();
        var score = new LinearScore<double>(4, 3, seed: 3);
        NewtonMethod.Minimize(score, SoftmaxCrossEntropyLoss.Instance, null, data, new NewtonOptions { MaxIterations = 50 });
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
        var e = Assert.Throws<ArgumentException>(() => NewtonMethod.Minimize(new LinearScore<double>(400, 10), SoftmaxCrossEntropyLoss.Instance, null, data));
        Assert.Contains("4010", e.Message);
        Assert.Contains("first-order", e.Message);
        Assert.Contains("MaxParameters", e.Message);
    }

    [Fact]
    public void UnsupportedComponents_AreRefused()
    {
        var data = Problem();
        Assert.Throws<ArgumentException>(() => NewtonMethod.Minimize(new LinearScore<double>(4, 3), new MulticlassHingeLoss(), null, data));
        Assert.Throws<ArgumentException>(() => NewtonMethod.Minimize(new LinearScore<double>(4, 3), SoftmaxCrossEntropyLoss.Instance, new FancyPenalty(), data));
        Assert.Throws<ArgumentException>(() => NewtonMethod.Minimize(new LinearScore<double>(5, 3), SoftmaxCrossEntropyLoss.Instance, null, data));
    }

    /// <summary>An iteration limit is reported as such, with the objective and norm at the point reached.</summary>
    [Fact]
    public void AnIterationLimit_IsReportedAsSuch()
    {
        var data = Problem();
        var score = new LinearScore<double>(4, 3, seed: 1);
        var result = NewtonMethod.Minimize(score, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(0.01), data, new NewtonOptions { MaxIterations = 2 });
        Assert.Equal(2, result.Iterations);
        Assert.Equal(NewtonStopReason.IterationLimit, result.Reason);
        Assert.Equal(GradientNorm(score, SoftmaxCrossEntropyLoss.Instance, 0.01, data), result.GradientNorm, 1e-12);
        Assert.True(result.GradientNorm > 1e-6);
    }

    private sealed class Reporter(Action<NewtonIteration> report) : IProgress<NewtonIteration>
    {
        public void Report(NewtonIteration value) => report(value);
    }

    private sealed class FancyPenalty : IRegularizer
    {
        public T Penalty<T>(ReadOnlySpan<T> weights)
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => T.Zero;

        public void AddGradient<T>(ReadOnlySpan<T> weights, Span<T> gradient)
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
        }
    }
}
