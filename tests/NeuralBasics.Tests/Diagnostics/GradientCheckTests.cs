using NeuralBasics.Diagnostics;

namespace NeuralBasics.Tests.Diagnostics;

public class GradientCheckTests
{
    // f(x) = Σ_k (k + 1)·x_k³, so ∂f/∂x_k = 3(k + 1)·x_k².
    private static double Cubic(double[] x)
    {
        double sum = 0;
        for (int k = 0; k < x.Length; k++)
            sum += (k + 1) * x[k] * x[k] * x[k];
        return sum;
    }

    [Fact]
    public void CorrectGradient_Passes_AndParametersAreRestored()
    {
        double[] x = [0.5, -1.25, 2, 0.1];
        double[] before = (double[])x.Clone();
        double[] gradient = x.Select((v, k) => 3.0 * (k + 1) * v * v).ToArray();
        var result = GradientCheck.Check(() => Cubic(x), x, gradient);
        Assert.True(result.MaxRelativeError < 1e-6, result.ToString()); // truncation h²/(3x²) = 3.3e-7 at x = 0.1
        Assert.Equal(4, result.CheckedCount);
        Assert.Equal(before, x);
    }

    [Fact]
    public void WrongGradient_IsFound_AtTheRightEntry()
    {
        double[] x = [0.5, -1.25, 2, 0.1];
        double[] gradient = x.Select((v, k) => 3.0 * (k + 1) * v * v).ToArray();
        gradient[2] *= 1.01;
        var result = GradientCheck.Check(() => Cubic(x), x, gradient);
        Assert.Equal(2, result.WorstIndex);
        Assert.InRange(result.MaxRelativeError, 0.009, 0.011);
    }

    [Fact]
    public void SparseMode_ChecksADistinctSeededSample()
    {
        double[] x = Enumerable.Range(0, 1000).Select(k => 0.5 + k / 1000.0).ToArray();
        double[] gradient = x.Select((v, k) => 3.0 * (k + 1) * v * v).ToArray();
        int calls = 0;
        var result = GradientCheck.Check(() => { calls++; return Cubic(x); }, x, gradient, sampleSize: 25, seed: 3);
        Assert.Equal(25, result.CheckedCount);
        Assert.Equal(50, calls);
        Assert.True(result.MaxRelativeError < 1e-6, result.ToString());
    }

    [Fact]
    public void BadSettings_Throw()
    {
        double[] x = [1, 2];
        Assert.Throws<ArgumentException>(() => GradientCheck.Check(() => 0, x, new double[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientCheck.Check(() => 0, x, new double[2], step: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientCheck.Check(() => 0, x, new double[2], sampleSize: 0));
    }
}
