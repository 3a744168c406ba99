using NeuralBasics.Activations;
using NeuralBasics.Diagnostics;

namespace NeuralBasics.Tests.Activations;

public class ActivationTests
{
    private static readonly double[] Points = [0, 1, -1, 20, -20, 100, -100];

    private static double[] Forward(IActivation f, double[] x)
    {
        var y = new double[x.Length];
        f.Forward<double>(x, y);
        return y;
    }

    [Fact]
    public void Sigmoid_HandValues()
    {
        // σ(x) = 1 / (1 + e^−x): σ(1) = 0.7310585786300049, σ(20) = 1 − 2.0611536e-9, σ(−100) = 3.7200759760208e-44.
        var y = Forward(new Sigmoid(), Points);
        Assert.Equal(0.5, y[0]);
        Assert.Equal(0.7310585786300049, y[1], 15);
        Assert.Equal(1 - 0.7310585786300049, y[2], 15);
        Assert.Equal(0.9999999979388463, y[3], 15);
        Assert.Equal(2.0611536181902037e-09, y[4], 1e-22);
        Assert.Equal(1.0, y[5]);
        Assert.Equal(3.7200759760208356e-44, y[6], 1e-56);

        var yf = new float[Points.Length];
        new Sigmoid().Forward<float>(Points.Select(p => (float)p).ToArray(), yf);
        Assert.Equal(1f, yf[5]);
        Assert.Equal(0f, yf[6]);

        // σ(−95) = 5.5e-42 is subnormal in float: flushed to 0 (slow on x86 in the next product).
        // σ(−80) = 1.8e-35 is normal and kept.
        new Sigmoid().Forward<float>([-95f, -80f], yf.AsSpan(0, 2));
        Assert.Equal(0f, yf[0]);
        Assert.Equal(Math.Exp(-80), yf[1], Math.Exp(-80) * 1e-5);
    }

    [Fact]
    public void Tanh_HandValues()
    {
        var y = Forward(new Tanh(), Points);
        Assert.Equal(0, y[0]);
        Assert.Equal(0.7615941559557649, y[1], 15);
        Assert.Equal(-0.7615941559557649, y[2], 15);
        Assert.Equal(1.0, y[3]);   // tanh(20) = 1 − 8.5e-18 rounds to 1
        Assert.Equal(-1.0, y[4]);
        Assert.Equal(1.0, y[5]);
        Assert.Equal(-1.0, y[6]);
    }

    [Fact]
    public void Relu_And_LeakyRelu_HandValues()
    {
        Assert.Equal(new double[] { 0, 1, 0, 20, 0, 100, 0 }, Forward(new Relu(), Points));
        Assert.Equal(new double[] { 0, 1, -0.01, 20, -0.2, 100, -1 }, Forward(new LeakyRelu(), Points));
        Assert.Equal(new double[] { 0, 1, -0.5, 20, -10, 100, -50 }, Forward(new LeakyRelu(0.5), Points));
    }

    [Fact]
    public void Saturation_GivesFiniteZeroDerivatives_NeverNaN()
    {
        foreach (IActivation f in new IActivation[] { new Sigmoid(), new Tanh() })
        {
            float[] x = [100, -100, 1e30f, -1e30f, float.MaxValue, float.MinValue];
            var y = new float[x.Length];
            var dx = new float[x.Length];
            f.Forward<float>(x, y);
            f.Backward<float>(x, y, [1, 1, 1, 1, 1, 1], dx);
            Assert.All(y, v => Assert.True(float.IsFinite(v)));
            Assert.All(dx, v => Assert.Equal(0f, v));
        }
    }

    public static TheoryData<string> Names() => new() { "sigmoid", "tanh", "relu", "leaky", "leaky0.3" };

    private static IActivation Named(string name) => name switch
    {
        "sigmoid" => new Sigmoid(),
        "tanh" => new Tanh(),
        "relu" => new Relu(),
        "leaky" => new LeakyRelu(),
        _ => new LeakyRelu(0.3),
    };

    /// <summary>L = Σ_i c_i·f(x_i) for fixed weights c, so ∂L/∂x_i = c_i·f'(x_i) is exactly what Backward gives for dy = c.</summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void Backward_MatchesCentralDifferences_IncludingAroundZero(string name)
    {
        var f = Named(name);
        // 37 points (vectors and a scalar tail) spread over [−6, 6], plus ±1e-3 and ±0.05 near the
        // kink; exactly 0 is skipped for the ReLU family, where f is not differentiable.
        var x = Enumerable.Range(0, 37).Select(i => -6 + 12.0 * i / 36 + 0.013).Concat([1e-3, -1e-3, 0.05, -0.05]).ToArray();
        if (name is "sigmoid" or "tanh")
            x = [.. x, 0];
        var c = x.Select((_, i) => Math.Cos(i + 1.0)).ToArray();
        var y = Forward(f, x);
        var dx = new double[x.Length];
        f.Backward<double>(x, y, c, dx);

        double Objective()
        {
            var fy = Forward(f, x);
            double sum = 0;
            for (int i = 0; i < fy.Length; i++)
                sum += c[i] * fy[i];
            return sum;
        }

        var result = GradientCheck.Check(Objective, x, dx, step: 1e-5);
        Assert.True(result.MaxRelativeError < 1e-6, $"{f}: {result}");
    }

    [Fact]
    public void AtTheKink_ReluUsesZero_LeakyUsesItsSlope()
    {
        var dx = new double[1];
        new Relu().Backward<double>([0], [0], [2], dx);
        Assert.Equal(0, dx[0]);
        new LeakyRelu(0.1).Backward<double>([0], [0], [2], dx);
        Assert.Equal(0.2, dx[0], 15);
    }

    [Fact]
    public void BadLengthsAndSettings_Throw()
    {
        Assert.Throws<ArgumentException>(() => new Relu().Forward<float>(new float[3], new float[2]));
        Assert.Throws<ArgumentException>(() => new Tanh().Backward<float>(new float[3], new float[3], new float[3], new float[4]));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new LeakyRelu(-0.1));
        Assert.Contains("-0.1", e.Message);
    }
}
