using NeuralBasics.Optimizers;

namespace NeuralBasics.Tests.Optimizers;

/// <summary>Sutskever et al.'s momentum ramp, its values by hand and its use by Momentum and Nesterov.</summary>
public class MomentumScheduleTests
{
    [Fact]
    public void TheRamp_GoesOneHalf_ThreeQuarters_FiveSixths_UpToItsMaximum()
    {
        var ramp = new SutskeverMomentum(maximum: 0.9, every: 250);
        // 1 − 2^(−1 − log₂(k + 1)) = 1 − 1/(2(k + 1)) for rung k.
        Assert.Equal(0.5, ramp.At(0), 15);
        Assert.Equal(0.5, ramp.At(249), 15);
        Assert.Equal(0.75, ramp.At(250), 15);
        Assert.Equal(1 - 1.0 / 6, ramp.At(500), 15);
        Assert.Equal(0.875, ramp.At(999), 15);
        Assert.Equal(0.9, ramp.At(1250), 15);      // rung 5 gives 1 − 1/12 = 0.9167, capped at 0.9
        Assert.Equal(0.9, ramp.At(1_000_000), 15);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SutskeverMomentum(maximum: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SutskeverMomentum(every: 0));
    }

    [Fact]
    public void Momentum_UsesEachStepsMu()
    {
        // Every = 1: μ = 0.5, 0.75, 5/6 for steps 1, 2, 3. On a constant gradient g = 1, lr = 1:
        // v₁ = −1, v₂ = 0.75·(−1) − 1 = −1.75, v₃ = (5/6)·(−1.75) − 1; w = Σ v.
        var rule = new Momentum(1.0, new SutskeverMomentum(0.99, every: 1));
        double[] w = [0];
        var state = rule.CreateState<double>(1);
        double v = 0, expected = 0;
        foreach (double mu in new[] { 0.5, 0.75, 5.0 / 6 })
        {
            rule.Apply<double>(w, [1.0], state);
            v = mu * v - 1;
            expected += v;
            Assert.Equal(expected, w[0], 14);
        }
        Assert.Equal(0.99, rule.Mu);
    }

    [Fact]
    public void Nesterov_UsesEachStepsMu_AndMatchesTheConstantRuleWhenTheRampIsFlat()
    {
        // A ramp whose maximum is its first rung is the constant μ = 0.5.
        var ramped = new Nesterov(0.1, new SutskeverMomentum(0.5, every: 1));
        var constant = new Nesterov(0.1, mu: 0.5);
        double[] a = [1, -1], b = [1, -1];
        var sa = ramped.CreateState<double>(2);
        var sb = constant.CreateState<double>(2);
        for (int t = 0; t < 5; t++)
        {
            ramped.Apply<double>(a, [a[0], 4 * a[1]], sa);
            constant.Apply<double>(b, [b[0], 4 * b[1]], sb);
        }
        Assert.Equal(b, a);

        // Nesterov: v ← μv − lr·g; w ← w + (1 + μ)v − μ·v_previous, with μ of each step.
        var rule = new Nesterov(1.0, new SutskeverMomentum(0.99, every: 1));
        double[] w = [0];
        var state = rule.CreateState<double>(1);
        double v = 0, x = 0;
        foreach (double mu in new[] { 0.5, 0.75, 5.0 / 6 })
        {
            rule.Apply<double>(w, [1.0], state);
            double previous = v;
            v = mu * v - 1;
            x += (1 + mu) * v - mu * previous;
            Assert.Equal(x, w[0], 14);
        }
    }
}
