using NeuralBasics.Diagnostics;
using NeuralBasics.Losses;
using NeuralBasics.Regularization;
using NeuralBasics.Scoring;

namespace NeuralBasics.Tests.Scoring;

public class LinearScoreTests
{
    [Fact]
    public void Forward_IsXWPlusB()
    {
        var score = new LinearScore<double>(2, 3);
        Matrix<double>.FromArray(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } }).Span.CopyTo(score.Weights.Value.Span);
        new double[] { 10, 20, 30 }.CopyTo(score.Biases.Value.Span);
        var x = Matrix<double>.FromArray(new double[,] { { 1, 1 }, { 2, -1 } });
        var s = new Matrix<double>(2, 3);
        score.Forward(x, s);
        Assert.Equal(new double[] { 15, 27, 39, 8, 19, 30 }, s.Span.ToArray());
    }

    [Fact]
    public void Initialization_IsSeededSmallGaussianWithZeroBiases()
    {
        var a = new LinearScore<double>(50, 40, weightScale: 0.01, seed: 3);
        var b = new LinearScore<double>(50, 40, weightScale: 0.01, seed: 3);
        var c = new LinearScore<double>(50, 40, weightScale: 0.01, seed: 4);
        Assert.Equal(a.Weights.Value.Span.ToArray(), b.Weights.Value.Span.ToArray());
        Assert.NotEqual(a.Weights.Value.Span.ToArray(), c.Weights.Value.Span.ToArray());
        Assert.All(a.Biases.Value.Span.ToArray(), v => Assert.Equal(0, v));

        var w = a.Weights.Value.Span.ToArray();
        double mean = w.Average();
        double std = Math.Sqrt(w.Select(v => (v - mean) * (v - mean)).Average());
        Assert.InRange(mean, -0.002, 0.002);   // 2000 draws: the mean's standard error is 0.0002
        Assert.InRange(std, 0.009, 0.011);
    }

    public static TheoryData<int, int, int> Shapes()
    {
        var data = new TheoryData<int, int, int>();
        foreach (int n in new[] { 1, 5, 32 })
            foreach (int c in new[] { 2, 3, 10 })
                data.Add(n, 4, c);
        data.Add(7, 33, 3);
        return data;
    }

    /// <summary>
    /// The full objective L = loss(XW + b) + λΣW²: its gradients with respect to W, b and X
    /// (assembled from the score's backward pass and the regularizer) against central differences.
    /// </summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void Backward_MatchesCentralDifferences_ForTheFullObjective(int n, int d, int c)
    {
        foreach (ILoss loss in new ILoss[] { SoftmaxCrossEntropyLoss.Instance, new MulticlassHingeLoss(), new SquaredHingeLoss() })
        {
            foreach (double lambda in new[] { 0.0, 0.1 })
            {
                var score = new LinearScore<double>(d, c, weightScale: 0.5, seed: n + c);
                TestData.Uniform<double>(1, c, 5).Span.CopyTo(score.Biases.Value.Span);
                var x = TestData.Uniform<double>(n, d, n * d);
                var random = new Random(c);
                int[] y = Enumerable.Range(0, n).Select(_ => random.Next(c)).ToArray();
                var regularizer = new L2Regularization(lambda);

                double Objective()
                {
                    var s = new Matrix<double>(n, c);
                    score.Forward(x, s);
                    return loss.Compute<double>(s, y, default) + regularizer.Penalty<double>(score.Weights.Value.Span);
                }

                var scores = new Matrix<double>(n, c);
                var dScores = new Matrix<double>(n, c);
                var dX = new Matrix<double>(n, d);
                score.Forward(x, scores);
                loss.Compute<double>(scores, y, dScores);
                score.Backward(x, dScores, dX);
                regularizer.AddGradient<double>(score.Weights.Value.Span, score.Weights.Gradient.Span);

                foreach (var (name, values, gradient) in new[]
                {
                    ("W", score.Weights.Value.Memory, score.Weights.Gradient.Span.ToArray()),
                    ("b", score.Biases.Value.Memory, score.Biases.Gradient.Span.ToArray()),
                    ("X", x.Memory, dX.Span.ToArray()),
                })
                {
                    var result = GradientCheck.Check(Objective, values, gradient);
                    Assert.True(result.MaxRelativeError < 1e-6, $"{loss}, λ = {lambda}, d{name}: {result}");
                }
            }
        }
    }

    [Fact]
    public void ShapeMismatches_Throw_NamingShapes()
    {
        var score = new LinearScore<float>(4, 3);
        var e = Assert.Throws<ArgumentException>(() => score.Forward(new Matrix<float>(2, 5), new Matrix<float>(2, 3)));
        Assert.Contains("[2x5]", e.Message);
        Assert.Contains("[4x3]", e.Message);
        Assert.Throws<ArgumentException>(() => score.Forward(new Matrix<float>(2, 4), new Matrix<float>(2, 2)));
        e = Assert.Throws<ArgumentException>(() => score.Backward(new Matrix<float>(2, 4), new Matrix<float>(3, 3), default));
        Assert.Contains("[3x3]", e.Message);
        Assert.Throws<ArgumentException>(() => score.Backward(new Matrix<float>(2, 4), new Matrix<float>(2, 3), new Matrix<float>(2, 5)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinearScore<float>(0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinearScore<float>(4, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinearScore<float>(4, 3, weightScale: -1));
    }

    [Fact]
    public void Clone_IsIndependent()
    {
        var score = new LinearScore<double>(3, 2, seed: 1);
        var copy = score.Clone();
        copy.Weights.Value[0, 0] = 42;
        Assert.NotEqual(42, score.Weights.Value[0, 0]);
        Assert.Equal(score.Weights.Value[1, 1], copy.Weights.Value[1, 1]);
    }
}
