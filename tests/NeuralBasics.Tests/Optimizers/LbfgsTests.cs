using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Kernels;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Models;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Scoring;

namespace NeuralBasics.Tests.Optimizers;

/// <summary>L-BFGS against Newton's optimum, an independently computed objective, and itself on other core counts.</summary>
[Collection(AllocationCollection.Name)] // one test changes the process-wide thread setting
public class LbfgsTests
{
    private static DataSet<double> Problem() =>
        // Overlapping blobs, not separable, features far from 0: the optimum is finite and the bias and weights interact.
        SyntheticData.Blobs<double>(pointsPerClass: 100, classCount: 3, featureCount: 4, spread: 6, seed: 11);

    private static double[] Centered(LinearScore<double> score)
    {
        double[] b = score.Biases.Value.Span.ToArray();
        double mean = b.Average();
        return [.. score.Weights.Value.Span.ToArray(), .. b.Select(v => v - mean)];
    }

    /// <summary>The objective from the independently tested pieces: the evaluation report's log-loss (or the loss itself) plus λΣW².</summary>
    private static double Objective(IScoreFunction<double> score, ILoss loss, double lambda, DataSet<double> data)
    {
        var s = new Matrix<double>(data.Count, score.ClassCount);
        score.Forward(data.Features, s);
        double value = loss.Compute<double>(s, data.Labels, default);
        foreach (var p in score.Parameters.Where(p => p.IsRegularized))
            foreach (double w in p.Value.Span)
                value += lambda * w * w;
        return value;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SoftmaxRegression_ReachesNewtonsOptimum(bool standardize)
    {
        var data = Problem();
        var newton = new LinearScore<double>(4, 3, seed: 2);
        var lbfgs = newton.Clone();
        var exact = NewtonMethod.Minimize(newton, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(0.01), data,
            new NewtonOptions { GradientTolerance = 1e-13, MaxIterations = 60 });
        var result = Lbfgs.Minimize(lbfgs, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(0.01), data,
            new LbfgsOptions { GradientTolerance = 1e-10, RelativeTolerance = 1e-16, Standardize = standardize });

        // Stopped where the objective no longer moves in double, or the gradient vanished.
        Assert.True(result.Reason is LbfgsStopReason.Converged or LbfgsStopReason.NoProgress, $"{result.Reason}");
        Assert.True(result.GradientNorm < 1e-7, $"‖∇f‖ = {result.GradientNorm}");
        Assert.Equal(exact.Objective, result.Objective, 1e-12);
        Assert.Equal(Objective(lbfgs, SoftmaxCrossEntropyLoss.Instance, 0.01, data), result.Objective, 1e-13);
        // Softmax ignores a shift of every bias by the same amount (and λ does not touch biases), so
        // the optimum is a line: compare the weights, and the biases up to their mean.
        var expected = Centered(newton);
        var actual = Centered(lbfgs);
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], actual[i], 1e-6);
        Assert.True(result.Evaluations >= result.Iterations + 1);
    }

    [Fact]
    public void SquaredHinge_ReachesNewtonsOptimum()
    {
        var data = Problem();
        var loss = new SquaredHingeLoss();
        var newton = new LinearScore<double>(4, 3, seed: 3);
        var lbfgs = newton.Clone();
        var exact = NewtonMethod.Minimize(newton, loss, new L2Regularization(0.05), data, new NewtonOptions { MaxIterations = 60 });
        var result = Lbfgs.Minimize(lbfgs, loss, new L2Regularization(0.05), data, new LbfgsOptions { GradientTolerance = 1e-9 });
        Assert.Equal(exact.Objective, result.Objective, 1e-10);
        Assert.True(result.Reason is LbfgsStopReason.Converged or LbfgsStopReason.NoProgress or LbfgsStopReason.LineSearchFailed, $"{result.Reason}");
    }

    [Fact]
    public void ANetwork_ConvergesToAStationaryPoint_ItsReportedObjectiveTheTrueOne()
    {
        var data = SyntheticData.Spiral<double>(pointsPerClass: 60, classCount: 3, seed: 4);
        var net = new NetworkBuilder<double>(2, seed: 5).Dense(20, new Tanh()).Dense(3).Build();
        double start = Objective(net, SoftmaxCrossEntropyLoss.Instance, 1e-3, data);
        var iterations = new List<LbfgsIteration>();
        var result = Lbfgs.Minimize(net, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-3), data,
            new LbfgsOptions { MaxIterations = 3000 }, new Reporter(iterations.Add));

        Assert.Equal(Objective(net, SoftmaxCrossEntropyLoss.Instance, 1e-3, data), result.Objective, 1e-12);
        Assert.True(result.Objective < 0.5 * start, $"{start} -> {result.Objective}");
        Assert.True(result.Reason is LbfgsStopReason.Converged or LbfgsStopReason.NoProgress, $"{result.Reason} after {result.Iterations}");
        // Every accepted step lowered the objective (sufficient decrease), and the reports count up.
        for (int i = 1; i < iterations.Count; i++)
            Assert.True(iterations[i].Objective < iterations[i - 1].Objective);
        Assert.Equal(Enumerable.Range(1, iterations.Count), iterations.Select(i => i.Iteration));
        Assert.True(new Classifier<double>(net, SoftmaxCrossEntropyLoss.Instance).Accuracy(data) > 0.9);
    }

    [Fact]
    public void TheResult_IsTheSameBitsOnOneCoreAndOnAll()
    {
        var (train, _) = FashionMnist.Load<float>(Path.Combine(AppContext.BaseDirectory, "TestData", "fashion-mnist-subset"), trainLimit: 2000);
        float[] Run(int threads)
        {
            int saved = Gemm.DefaultMaxDegreeOfParallelism;
            try
            {
                Gemm.DefaultMaxDegreeOfParallelism = threads;
                var score = new LinearScore<float>(784, 10, seed: 6);
                Lbfgs.Minimize(score, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-4), train, new LbfgsOptions { MaxIterations = 15 });
                return [.. score.Parameters.SelectMany(p => p.Value.Span.ToArray())];
            }
            finally
            {
                Gemm.DefaultMaxDegreeOfParallelism = saved;
            }
        }
        Assert.Equal(Run(1), Run(0));
    }

    [Fact]
    public void LimitsAndBadInput_AreReportedClearly()
    {
        var data = Problem();
        var result = Lbfgs.Minimize(new LinearScore<double>(4, 3, seed: 2), SoftmaxCrossEntropyLoss.Instance, null, data, new LbfgsOptions { MaxIterations = 3 });
        Assert.Equal((3, LbfgsStopReason.IterationLimit), (result.Iterations, result.Reason));
        var target = Lbfgs.Minimize(new LinearScore<double>(4, 3, seed: 2), SoftmaxCrossEntropyLoss.Instance, null, data, new LbfgsOptions { TargetObjective = 0.9 });
        Assert.Equal(LbfgsStopReason.TargetReached, target.Reason);
        Assert.True(target.Objective <= 0.9);

        Assert.Throws<ArgumentException>(() => Lbfgs.Minimize(new LinearScore<double>(5, 3), SoftmaxCrossEntropyLoss.Instance, null, data));
        var broken = new LinearScore<double>(4, 3, seed: 2);
        broken.Parameters[0].Value.Span[0] = double.NaN;
        Assert.Throws<InvalidOperationException>(() => Lbfgs.Minimize(broken, SoftmaxCrossEntropyLoss.Instance, null, data));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LbfgsOptions { History = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new LbfgsOptions { GradientTolerance = 0 });
    }

    private sealed class Reporter(Action<LbfgsIteration> action) : IProgress<LbfgsIteration>
    {
        public void Report(LbfgsIteration value) => action(value);
    }
}
