using NeuralBasics.Diagnostics;
using NeuralBasics.Losses;

namespace NeuralBasics.Tests.Losses;

public class LossTests
{
    private static (double Loss, double[] Gradient) Run(ILoss loss, double[,] scores, int[] labels)
    {
        var s = Matrix<double>.FromArray(scores);
        var g = new Matrix<double>(s.Rows, s.Columns);
        double value = loss.Compute<double>(s, labels, g);
        return (value, g.Span.ToArray());
    }

    [Fact]
    public void Hinge_WorkedExampleFromTheNotes()
    {
        // Scores [−5, 15, 7], correct class 0, Δ = 8: max(0, 28) + max(0, 20) = 48.
        var (loss, gradient) = Run(new MulticlassHingeLoss(8), new double[,] { { -5, 15, 7 } }, [0]);
        Assert.Equal(48, loss);
        Assert.Equal(new double[] { -2, 1, 1 }, gradient);
    }

    [Fact]
    public void SquaredHinge_WorkedExample()
    {
        // The same margins squared: 28² + 20² = 1184; gradient 2·28 = 56, 2·20 = 40, and −96.
        var (loss, gradient) = Run(new SquaredHingeLoss(8), new double[,] { { -5, 15, 7 } }, [0]);
        Assert.Equal(1184, loss);
        Assert.Equal(new double[] { -96, 56, 40 }, gradient);
    }

    [Fact]
    public void Hinge_TiesAndExactlyMetMargins()
    {
        // Row 0: all tied, Δ = 1: both other classes violate by 1. Row 1: class 1 meets the margin
        // exactly (2 − 3 + 1 = 0), class 2 is well clear: loss 0, gradient 0.
        var (loss, gradient) = Run(new MulticlassHingeLoss(1), new double[,] { { 2, 2, 2 }, { 3, 2, 0 } }, [1, 0]);
        Assert.Equal((2 + 0) / 2.0, loss);
        Assert.Equal(new double[] { 0.5, -1, 0.5, 0, 0, 0 }, gradient);

        var (squared, squaredGradient) = Run(new SquaredHingeLoss(1), new double[,] { { 2, 2, 2 }, { 3, 2, 0 } }, [1, 0]);
        Assert.Equal(1.0, squared);
        Assert.Equal(new double[] { 1, -2, 1, 0, 0, 0 }, squaredGradient);
    }

    [Fact]
    public void Hinge_ZeroMarginCountsOnlyStrictViolations()
    {
        var (loss, gradient) = Run(new MulticlassHingeLoss(0), new double[,] { { 1, 1, 0.5 } }, [0]);
        Assert.Equal(0, loss);
        Assert.Equal(new double[] { 0, 0, 0 }, gradient);
    }

    [Fact]
    public void NonFiniteScores_GiveANonFiniteLoss_NeverAHiddenZero()
    {
        foreach (ILoss loss in AllLosses())
        {
            foreach (double bad in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
            {
                var (value, _) = Run(loss, new double[,] { { 1, 2, 3 }, { bad, 0, 0 } }, [0, 1]);
                Assert.False(double.IsFinite(value), $"{loss} with a score of {bad} gave {value}");
            }
        }
    }

    [Fact]
    public void Softmax_HandComputedValues()
    {
        // Equal scores: loss log 3, gradient p − 1[y] = [1/3, 1/3 − 1, 1/3].
        var (loss, gradient) = Run(SoftmaxCrossEntropyLoss.Instance, new double[,] { { 0, 0, 0 } }, [1]);
        Assert.Equal(Math.Log(3), loss, 15);
        Assert.Equal(1 / 3.0, gradient[0], 15);
        Assert.Equal(1 / 3.0 - 1, gradient[1], 15);

        // Scores [1, 2, 3], class 2: log(e + e² + e³) − 3 = log(1 + e⁻¹ + e⁻²) = 0.40760596444...
        var (loss2, gradient2) = Run(SoftmaxCrossEntropyLoss.Instance, new double[,] { { 1, 2, 3 } }, [2]);
        Assert.Equal(0.4076059644443803, loss2, 14);
        double z = 1 + Math.Exp(-1) + Math.Exp(-2);
        Assert.Equal(Math.Exp(-2) / z, gradient2[0], 15);
        Assert.Equal(Math.Exp(-1) / z, gradient2[1], 15);
        Assert.Equal(1 / z - 1, gradient2[2], 15);
    }

    [Fact]
    public void Softmax_IsFiniteAndExactForScoresOfMagnitude1e4()
    {
        // Class 1 trails the max by 1e4: the loss is exactly 1e4 (log(1 + e^−1e4 + e^−2e4) = 0).
        var (loss, gradient) = Run(SoftmaxCrossEntropyLoss.Instance, new double[,] { { 1e4, 0, -1e4 } }, [1]);
        Assert.Equal(1e4, loss);
        Assert.Equal(new double[] { 1, -1, 0 }, gradient);

        var (best, bestGradient) = Run(SoftmaxCrossEntropyLoss.Instance, new double[,] { { 1e4, 0, -1e4 } }, [0]);
        Assert.Equal(0, best);
        Assert.Equal(new double[] { 0, 0, 0 }, bestGradient);

        var s = Matrix<float>.FromArray(new float[,] { { 1e4f, -1e4f, 1e4f } });
        var g = new Matrix<float>(1, 3);
        float lossF = SoftmaxCrossEntropyLoss.Instance.Compute<float>(s, [0], g);
        Assert.Equal(MathF.Log(2), lossF, 6);
        Assert.Equal(new[] { -0.5f, 0f, 0.5f }, g.Span.ToArray());
    }

    /// <summary>
    /// A confident network's softmax gradient for classes ~90 below the max would be subnormal in
    /// float (slow on x86, and it feeds two matrix products): such entries are exactly 0, the others
    /// and the loss are as computed in double.
    /// </summary>
    [Fact]
    public void SoftmaxGradient_HoldsNoSubnormals()
    {
        var scores = new float[4, 6];
        for (int i = 0; i < 4; i++)
        {
            float[] row = [10, 10 - 60, 10 - 85, 10 - 88, 10 - 95, 10 - 120];
            for (int j = 0; j < 6; j++)
                scores[i, j] = row[j];
        }
        var s = Matrix<float>.FromArray(scores);
        var g = new Matrix<float>(4, 6);
        float loss = SoftmaxCrossEntropyLoss.Instance.Compute<float>(s, [0, 0, 0, 1], g);
        Assert.All(g.Span.ToArray(), v => Assert.False(float.IsSubnormal(v), $"{v} is subnormal"));
        // p_1 = e^-60 / (1 + e^-60 + ...), divided by N = 4.
        Assert.Equal(Math.Exp(-60) / 4, g[0, 1], Math.Exp(-60) * 1e-5);
        Assert.Equal(0f, g[0, 3]);
        Assert.Equal(0f, g[0, 4]);
        Assert.Equal(0f, g[0, 5]);
        Assert.Equal(60.0 / 4, loss, 5); // three rows lose ~e^-60, the fourth 60
        Assert.Equal(loss, SoftmaxCrossEntropyLoss.Instance.Compute<float>(s, [0, 0, 0, 1], default), 5);
    }

    [Fact]
    public void LossWithoutGradient_EqualsLossWithGradient()
    {
        var s = TestData.Uniform<double>(7, 4, 3, scale: 3);
        int[] y = [0, 1, 2, 3, 0, 1, 2];
        foreach (ILoss loss in AllLosses())
        {
            double withGradient = loss.Compute<double>(s, y, new Matrix<double>(7, 4));
            double without = loss.Compute<double>(s, y, default);
            Assert.Equal(withGradient, without, 14);
        }
    }

    public static IEnumerable<ILoss> AllLosses() =>
        [new MulticlassHingeLoss(), new MulticlassHingeLoss(2.5), new SquaredHingeLoss(), SoftmaxCrossEntropyLoss.Instance];

    /// <summary>The same losses with class weights, for shapes of exactly <paramref name="classes"/> classes.</summary>
    public static IEnumerable<ILoss> WeightedLosses(int classes)
    {
        double[] w = [.. Enumerable.Range(0, classes).Select(c => 0.5 + c)];
        return [new MulticlassHingeLoss(1, w), new SquaredHingeLoss(1, w), new SoftmaxCrossEntropyLoss(w)];
    }

    [Fact]
    public void ClassWeights_ScaleEachSamplesLossAndGradient()
    {
        // The worked example with class 0 weighted 2: 2 · 48 = 96, gradient doubled.
        var (loss, gradient) = Run(new MulticlassHingeLoss(8, [2, 1, 1]), new double[,] { { -5, 15, 7 } }, [0]);
        Assert.Equal(96, loss);
        Assert.Equal(new double[] { -4, 2, 2 }, gradient);

        // Two samples of classes 0 and 1 with weights 3 and 0: only the first counts, still divided by N = 2.
        var (softmax, softmaxGradient) = Run(new SoftmaxCrossEntropyLoss([3, 0]), new double[,] { { 0, 0 }, { 5, -5 } }, [0, 1]);
        Assert.Equal(3 * Math.Log(2) / 2, softmax, 15);
        Assert.Equal(new double[] { -0.75, 0.75, 0, 0 }, softmaxGradient);

        var e = Assert.Throws<ArgumentException>(() => new SoftmaxCrossEntropyLoss([1, 1]).Compute<double>(new Matrix<double>(1, 3), [0], default));
        Assert.Contains("2 class weights", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SquaredHingeLoss(1, [1, -1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MulticlassHingeLoss(1, [1, double.NaN]));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(10)]
    public void WeightedGradients_MatchCentralDifferences(int c)
    {
        foreach (ILoss loss in WeightedLosses(c))
        {
            var scores = TestData.Uniform<double>(7, c, c, scale: 3);
            int[] labels = [.. Enumerable.Range(0, 7).Select(i => i % c)];
            var gradient = new Matrix<double>(7, c);
            loss.Compute<double>(scores, labels, gradient);
            var result = GradientCheck.Check(() => loss.Compute<double>(scores, labels, default), scores.Memory, gradient.Span);
            Assert.True(result.MaxRelativeError < 1e-6, $"{loss}: {result}");
        }
    }

    public static TheoryData<int, int, int> GradientShapes()
    {
        var data = new TheoryData<int, int, int>();
        foreach (int n in new[] { 1, 5, 32 })
            foreach (int c in new[] { 2, 3, 10 })
                for (int loss = 0; loss < 4; loss++)
                    data.Add(n, c, loss);
        return data;
    }

    [Theory]
    [MemberData(nameof(GradientShapes))]
    public void Gradient_MatchesCentralDifferences(int n, int c, int lossIndex)
    {
        ILoss loss = AllLosses().ElementAt(lossIndex);
        var scores = TestData.Uniform<double>(n, c, 100 * n + c, scale: 3);
        var random = new Random(n + c);
        int[] labels = Enumerable.Range(0, n).Select(_ => random.Next(c)).ToArray();
        var gradient = new Matrix<double>(n, c);
        loss.Compute<double>(scores, labels, gradient);

        var result = GradientCheck.Check(() => loss.Compute<double>(scores, labels, default), scores.Memory, gradient.Span);
        Assert.True(result.MaxRelativeError < 1e-6, $"{loss}: {result}");
    }

    [Fact]
    public void BadInput_Throws_NamingTheOffender_WithoutWriting()
    {
        var s = TestData.Uniform<double>(3, 4, 1);
        var g = new Matrix<double>(3, 4);
        g.Span.Fill(7);
        foreach (ILoss loss in AllLosses())
        {
            ArgumentException e = Assert.Throws<ArgumentOutOfRangeException>(() => loss.Compute<double>(s, [0, 4, 1], g));
            Assert.Contains("4", e.Message);
            Assert.Throws<ArgumentOutOfRangeException>(() => loss.Compute<double>(s, [0, -1, 1], g));
            e = Assert.Throws<ArgumentException>(() => loss.Compute<double>(s, [0, 1], g));
            Assert.Contains("2 labels", e.Message);
            e = Assert.Throws<ArgumentException>(() => loss.Compute<double>(s, [0, 1, 2], new Matrix<double>(3, 5)));
            Assert.Contains("[3x5]", e.Message);
            Assert.Throws<ArgumentException>(() => loss.Compute<double>(new Matrix<double>(0, 4), [], default));
            Assert.All(g.Span.ToArray(), v => Assert.Equal(7, v));
        }
        var negative = Assert.Throws<ArgumentOutOfRangeException>(() => new MulticlassHingeLoss(-1));
        Assert.Contains("-1", negative.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SquaredHingeLoss(double.NaN));
    }
}
