using NeuralBasics.Optimizers;

namespace NeuralBasics.Tests.Optimizers;

/// <summary>One table of every first-order rule drives the shared tests.</summary>
public class UpdateRuleTests
{
    private static UpdateRule Rule(string name) => RuleTable.Named(name).Standard();

    public static TheoryData<string> Names() => RuleTable.Names();

    /// <summary>The first three iterates equal the independent transcription in the rule table (to 1e-13).</summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void FirstThreeIterates_MatchTheFormula(string name)
    {
        double[] expected = RuleTable.Named(name).FirstThreeIterates;
        var rule = Rule(name);
        double[] w = [1, -1];
        var state = rule.CreateState<double>(2);
        for (int t = 0; t < 3; t++)
        {
            rule.Apply<double>(w, [w[0], 4 * w[1]], state);
            Assert.Equal(expected[2 * t], w[0], 1e-13);
            Assert.Equal(expected[2 * t + 1], w[1], 1e-13);
        }
        Assert.Equal(3, state.Step);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void VectorAndScalarPaths_Agree(string name)
    {
        // 37 elements: several whole vectors and a scalar tail. Each element follows the same 1-D
        // problem, so every element must end where a single-element run ends.
        var rule = Rule(name);
        var wide = Enumerable.Range(0, 37).Select(_ => 1.5f).ToArray();
        float[] single = [1.5f];
        var wideState = rule.CreateState<float>(37);
        var singleState = rule.CreateState<float>(1);
        for (int t = 0; t < 5; t++)
        {
            rule.Apply<float>(wide, wide.Select(v => 2 * v).ToArray(), wideState);
            rule.Apply<float>(single, [2 * single[0]], singleState);
        }
        Assert.All(wide, v => Assert.Equal(single[0], v, 1e-6f));
    }

    /// <summary>
    /// Each rule, with a learning rate suited to it, reaches |w| &lt; 1e-4 on the ill-conditioned
    /// f = 0.5·(x² + 50y²) from (1, 1) within its budget in the rule table.
    /// </summary>
    public static TheoryData<string, int> ConvergenceBudgets()
    {
        var data = new TheoryData<string, int>();
        foreach (var rule in RuleTable.All)
            data.Add(rule.Name, rule.ValleyBudget);
        return data;
    }

    private static int StepsToConverge(UpdateRule rule, Func<double[], double[]> gradient, double[] start,
        Func<double[], bool> done, int budget)
    {
        var w = (double[])start.Clone();
        var state = rule.CreateState<double>(w.Length);
        for (int step = 0; step < budget; step++)
        {
            if (done(w))
                return step;
            rule.Apply<double>(w, gradient(w), state);
        }
        return done(w) ? budget : int.MaxValue;
    }

    private static int ValleySteps(string name, int budget) =>
        StepsToConverge(RuleTable.Named(name).ForValley(), w => [w[0], 50 * w[1]], [1, 1],
            w => Math.Abs(w[0]) < 1e-4 && Math.Abs(w[1]) < 1e-4, budget);

    [Theory]
    [MemberData(nameof(ConvergenceBudgets))]
    public void Converges_OnAnIllConditionedQuadratic(string name, int budget)
    {
        int steps = ValleySteps(name, budget);
        Assert.True(steps <= budget, $"{name} did not reach 1e-4 within {budget} steps.");
    }

    [Fact]
    public void MomentumAndNesterov_NeedFarFewerStepsThanSgd_InTheValley()
    {
        int sgd = ValleySteps("Sgd", 10_000), momentum = ValleySteps("Momentum", 10_000), nesterov = ValleySteps("Nesterov", 10_000);
        Assert.True(momentum * 2 < sgd, $"momentum {momentum} vs SGD {sgd}");
        Assert.True(nesterov * 2 < sgd, $"Nesterov {nesterov} vs SGD {sgd}");
    }

    [Theory]
    [InlineData("Adam", 2000)]      // 1464 steps at lr 0.05
    [InlineData("RmsProp", 12000)]  // 8954 steps at lr 0.001
    public void AdamAndRmsProp_SolveRosenbrock(string name, int budget)
    {
        UpdateRule rule = name == "Adam" ? new Adam(0.05) : new RmsProp(0.001);
        int steps = StepsToConverge(rule,
            w => [-2 * (1 - w[0]) - 400 * w[0] * (w[1] - w[0] * w[0]), 200 * (w[1] - w[0] * w[0])],
            [-1.5, 2], w => Math.Abs(w[0] - 1) < 1e-3 && Math.Abs(w[1] - 1) < 1e-3, budget);
        Assert.True(steps <= budget, $"{name} did not reach (1, 1) within {budget} steps.");
    }

    [Fact]
    public void NesterovWithZeroMomentum_IsSgd_AndSoIsMomentum()
    {
        double[] a = [1, -2, 3], b = [1, -2, 3], c = [1, -2, 3];
        var sgd = new Sgd(0.1);
        var nesterov = new Nesterov(0.1, mu: 0);
        var momentum = new Momentum(0.1, mu: 0);
        var (sa, sb, sc) = (sgd.CreateState<double>(3), nesterov.CreateState<double>(3), momentum.CreateState<double>(3));
        for (int t = 0; t < 5; t++)
        {
            sgd.Apply<double>(a, a.Select(v => v * v).ToArray(), sa);
            nesterov.Apply<double>(b, b.Select(v => v * v).ToArray(), sb);
            momentum.Apply<double>(c, c.Select(v => v * v).ToArray(), sc);
        }
        Assert.Equal(a, b);
        Assert.Equal(a, c);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void StateIsPerTensor_TwoTensorsDoNotInterfere(string name)
    {
        var rule = Rule(name);
        double[] alone = [0.7, -0.3];
        var aloneState = rule.CreateState<double>(2);
        double[] first = [0.7, -0.3], second = [5, 5, 5];
        var firstState = rule.CreateState<double>(2);
        var secondState = rule.CreateState<double>(3);
        for (int t = 0; t < 4; t++)
        {
            rule.Apply<double>(alone, [alone[0], 4 * alone[1]], aloneState);
            rule.Apply<double>(second, [9, -9, 1], secondState);
            rule.Apply<double>(first, [first[0], 4 * first[1]], firstState);
        }
        Assert.Equal(alone, first);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void WarmStep_AllocatesNothing(string name)
    {
        var rule = Rule(name);
        var w = new float[1000];
        var g = Enumerable.Range(0, 1000).Select(i => (float)Math.Sin(i)).ToArray();
        var state = rule.CreateState<float>(1000);
        rule.Apply<float>(w, g, state);
        // The least of three, as AllocationTests takes them: an allocation of the step shows in every
        // one, a one-off of the runtime's does not (AdaDelta's row failed now and then in filtered
        // runs, the step allocating nothing in the others).
        long least = Enumerable.Range(0, 3).Min(_ =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            rule.Apply<float>(w, g, state);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        });
        Assert.Equal(0, least);
    }

    /// <summary>
    /// After one step on gradients of every magnitude from 1 down into the subnormal range, a long
    /// run of zero gradients (pixels dark in every batch) lets every rule's state decay through the
    /// subnormal range; at no step may a weight or state value be subnormal (they run on a slow path
    /// on x86). Without the flush in the update loop every rule with state fails this: the
    /// velocities, caches and moments decay into it, and AdaGrad squares tiny gradients into it.
    /// (SGD keeps no state; its row checks only that its weights stay normal.)
    /// </summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void LongRunsOfZeroGradients_LeaveNoSubnormalState(string name)
    {
        DecayThroughTheSubnormalRange<float>(Rule(name), decades: 46, zeroSteps: 3000);
        DecayThroughTheSubnormalRange<double>(Rule(name), decades: 324, zeroSteps: 3000);
    }

    private static void DecayThroughTheSubnormalRange<T>(UpdateRule rule, int decades, int zeroSteps)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        // Element k gets a gradient of ±10^-k.
        int n = decades + 1;
        var w = Enumerable.Repeat(T.One, n).ToArray();
        var g = Enumerable.Range(0, n).Select(k => T.CreateTruncating((k % 2 == 0 ? 1 : -1) * Math.Pow(10, -k))).ToArray();
        var state = rule.CreateState<T>(n);
        rule.Apply<T>(w, g, state);
        AssertNoSubnormal(w, state, rule, 0);
        var zero = new T[n];
        for (int step = 1; step <= zeroSteps; step++)
        {
            rule.Apply<T>(w, zero, state);
            AssertNoSubnormal(w, state, rule, step);
        }
    }

    private static void AssertNoSubnormal<T>(T[] w, UpdateState state, UpdateRule rule, int step)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        foreach (var (buffer, values) in state.Buffers.Select(b => (b.Key, (T[])b.Value)).Prepend(("weights", w)))
        {
            int bad = Array.FindIndex(values, T.IsSubnormal);
            Assert.True(bad < 0, $"{rule.GetType().Name} {typeof(T).Name}: {buffer}[{bad}] is subnormal ({(bad < 0 ? default : values[bad])}) after {step} zero-gradient steps");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void BadGradients_Throw_AndLeaveEverythingUntouched(string name)
    {
        var rule = Rule(name);
        double[] w = [1, 2];
        var state = rule.CreateState<double>(2);
        rule.Apply<double>(w, [0.5, 0.5], state);
        double[] before = (double[])w.Clone();
        Assert.Throws<ArgumentException>(() => rule.Apply<double>(w, [0, double.NaN], state));
        Assert.Throws<ArgumentException>(() => rule.Apply<double>(w, [1, 2, 3], state));
        Assert.Throws<ArgumentException>(() => rule.Apply<double>(w, [1, 2], rule.CreateState<double>(3)));
        Assert.Equal(before, w);
        Assert.Equal(1, state.Step);

        var other = name == "Sgd" ? (UpdateRule)new Adam() : new Sgd(0.1);
        var e = Assert.Throws<ArgumentException>(() => rule.Apply<double>(w, [1, 1], other.CreateState<double>(2)));
        Assert.Contains("CreateState", e.Message);
    }

    [Fact]
    public void InvalidHyperparameters_Throw_NamingTheValue()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Momentum(0.1, mu: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Momentum(0.1, mu: -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Nesterov(0.1, mu: 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdaGrad(0.1, epsilon: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RmsProp(0.1, rho: 1));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(beta1: 1.2));
        Assert.Contains("1.2", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(beta2: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(epsilon: -1e-8));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Nadam(beta1: -0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adamax(beta2: 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdaDelta(rho: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(-0.001));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam() with { Beta1 = 1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new NewtonOptions { MaxParameters = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new NewtonOptions { MaxIterations = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new NewtonOptions { GradientTolerance = 0 });
    }

    [Fact]
    public void Schedules_FollowTheirFormulas()
    {
        var step = new StepDecay(0.1, gamma: 0.5, stepSize: 10);
        Assert.Equal(0.1, step.At(0));
        Assert.Equal(0.1, step.At(9));
        Assert.Equal(0.05, step.At(10));
        Assert.Equal(0.025, step.At(25));

        var exponential = new ExponentialDecay(0.1, gamma: 0.9);
        Assert.Equal(0.1, exponential.At(0));
        Assert.Equal(0.1 * 0.9 * 0.9 * 0.9, exponential.At(3), 15);

        var cosine = new CosineAnnealing(0.1, totalSteps: 100, minimum: 0.001);
        Assert.Equal(0.1, cosine.At(0), 15);
        Assert.Equal(0.001 + 0.5 * 0.099, cosine.At(50), 15);
        Assert.Equal(0.001, cosine.At(100), 15);
        Assert.Equal(0.001, cosine.At(1000));

        Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecay(0.1, 0, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecay(0.1, 0.5, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialDecay(0, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineAnnealing(0.1, 100, minimum: 0.5));
    }

    [Fact]
    public void ARuleReadsItsScheduleByStep()
    {
        var rule = new Sgd(new StepDecay(1.0, gamma: 0.5, stepSize: 1));
        double[] w = [0];
        var state = rule.CreateState<double>(1);
        for (int t = 0; t < 3; t++)
            rule.Apply<double>(w, [-1], state);
        Assert.Equal(1 + 0.5 + 0.25, w[0]);
    }
}
