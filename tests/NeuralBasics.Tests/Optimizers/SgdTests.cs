using NeuralBasics.Optimizers;

namespace NeuralBasics.Tests.Optimizers;

public class SgdTests
{
    [Fact]
    public void Step_IsWMinusLearningRateTimesGradient()
    {
        var rule = new Sgd(0.5);
        double[] w = [1, -2, 3];
        var state = rule.CreateState<double>(3);
        rule.Apply<double>(w, [2, 2, -4], state);
        Assert.Equal(new double[] { 0, -3, 5 }, w);
        Assert.Equal(1, state.Step);
        rule.Apply<double>(w, [1, 0, 0], state);
        Assert.Equal(new double[] { -0.5, -3, 5 }, w);
        Assert.Equal(2, state.Step);
    }

    [Fact]
    public void Sgd_ConvergesOnAQuadratic()
    {
        // f(x, y) = 0.5·(x² + 4y²), gradient (x, 4y); lr 0.2 contracts both by at least 0.8 a step.
        var rule = new Sgd(0.2);
        float[] w = [3, -2];
        var state = rule.CreateState<float>(2);
        for (int i = 0; i < 100; i++)
            rule.Apply<float>(w, [w[0], 4 * w[1]], state);
        Assert.InRange(w[0], -1e-6f, 1e-6f);
        Assert.InRange(w[1], -1e-6f, 1e-6f);
    }

    [Fact]
    public void States_AreIndependentPerTensor()
    {
        var rule = new Sgd(0.1);
        double[] a = [1], b = [10];
        var sa = rule.CreateState<double>(1);
        var sb = rule.CreateState<double>(1);
        rule.Apply<double>(a, [1], sa);
        rule.Apply<double>(a, [1], sa);
        rule.Apply<double>(b, [1], sb);
        Assert.Equal(2, sa.Step);
        Assert.Equal(1, sb.Step);
        Assert.Equal(0.8, a[0], 15);
        Assert.Equal(9.9, b[0], 15);
    }

    [Fact]
    public void With_MakesANewRule()
    {
        var rule = new Sgd(0.1);
        var slower = rule with { LearningRate = 0.01 };
        Assert.Equal(0.1, rule.LearningRate.At(0));
        Assert.Equal(0.01, slower.LearningRate.At(0));
    }

    [Fact]
    public void BadInput_Throws_AndLeavesParametersAndStateUntouched()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(0));
        Assert.Contains("0", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(-0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(double.NaN));

        var rule = new Sgd(0.1);
        double[] w = [1, 2];
        var state = rule.CreateState<double>(2);
        var nan = Assert.Throws<ArgumentException>(() => rule.Apply<double>(w, [0, double.NaN], state));
        Assert.Contains("element 1", nan.Message);
        Assert.Throws<ArgumentException>(() => rule.Apply<double>(w, [0, double.PositiveInfinity], state));
        Assert.Throws<ArgumentException>(() => rule.Apply<double>(w, [1], state));
        Assert.Throws<ArgumentException>(() => rule.Apply<double>(w, [1, 1], rule.CreateState<double>(3)));
        Assert.Equal(new double[] { 1, 2 }, w);
        Assert.Equal(0, state.Step);
    }
}
