using NeuralBasics.Optimizers;

namespace NeuralBasics.Tests.Optimizers;

/// <summary>
/// The rules' forms that differ between libraries, each against an independent transcription of
/// that library's documented algorithm (plain Python, in double) on f(w) = 0.5·(w₁² + 4·w₂²) from (1, −1).
/// </summary>
public class PeerParityTests
{
    private static void ExpectIterates(UpdateRule rule, double[] expected)
    {
        double[] w = [1, -1];
        var state = rule.CreateState<double>(2);
        for (int t = 0; t < expected.Length / 2; t++)
        {
            rule.Apply<double>(w, [w[0], 4 * w[1]], state);
            Assert.Equal(expected[2 * t], w[0], 1e-13);
            Assert.Equal(expected[2 * t + 1], w[1], 1e-13);
        }
    }

    [Fact]
    public void Nadam_WithAConstantMomentum_KeepsDozatsSimplifiedForm()
    {
        // μ_t = β1 for all t: the iterates of this library's earlier Nadam (and 0.042 away from PyTorch's first step).
        ExpectIterates(new Nadam(0.1, momentumDecay: null),
            [0.8526315804210526, -0.8526315793157895, 0.7416971612150949, -0.7416971592559705, 0.6406112830895372, -0.6406112803254204]);
    }

    [Fact]
    public void NadamState_KeepsTheProductOfTheMomenta_AndARestoredStateContinuesBitForBit()
    {
        var rule = new Nadam(0.1);
        double[] w = [1, -1];
        var state = (NadamState<double>)rule.CreateState<double>(2);
        for (int t = 0; t < 3; t++)
            rule.Apply<double>(w, [w[0], 4 * w[1]], state);
        double product = 1;
        for (int i = 1; i <= 3; i++)
            product *= 0.9 * (1 - 0.5 * Math.Pow(0.96, i * 0.004));
        Assert.Equal(product, state.MomentumProduct, 1e-16);
        Assert.Equal(0.9 * (1 - 0.5 * Math.Pow(0.96, 0.004)), rule.MomentumAt(1), 1e-16);

        // A checkpoint holds M, V and the step; the product is rebuilt from them on the next step.
        var restored = (NadamState<double>)rule.CreateState<double>(2);
        state.M.CopyTo(restored.M, 0);
        state.V.CopyTo(restored.V, 0);
        restored.Step = state.Step;
        double[] resumed = [.. w];
        for (int t = 0; t < 5; t++)
        {
            rule.Apply<double>(w, [w[0], 4 * w[1]], state);
            rule.Apply<double>(resumed, [resumed[0], 4 * resumed[1]], restored);
        }
        Assert.Equal(w, resumed);
        Assert.Equal(state.MomentumProduct, restored.MomentumProduct);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Nadam(momentumDecay: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Nadam(momentumDecay: double.NaN));
    }

    [Fact]
    public void AdamW_DecaysWeightsOnly_AtTheRateLrTimesLambda_OutsideAdamsScaling()
    {
        // With a zero gradient Adam's step is 0, so only the decay moves w: w·(1 − lr·λ) per step.
        var rule = new AdamW(0.1, weightDecay: 0.5);
        double[] weight = [2, -4], bias = [2, -4];
        var weightState = rule.CreateState<double>(2);
        var biasState = rule.CreateState<double>(2) with { IsWeight = false };
        for (int t = 0; t < 3; t++)
        {
            rule.Apply<double>(weight, [0, 0], weightState);
            rule.Apply<double>(bias, [0, 0], biasState);
        }
        Assert.Equal([2 * Math.Pow(0.95, 3), -4 * Math.Pow(0.95, 3)], weight);
        Assert.Equal([2.0, -4.0], bias);

        // The trainer marks a layer's weights and biases from Parameter.IsRegularized.
        var score = new NeuralBasics.Scoring.LinearScore<double>(3, 2, seed: 1);
        var step = new NeuralBasics.Training.TrainingStep<double>(score, NeuralBasics.Losses.SoftmaxCrossEntropyLoss.Instance, null, rule);
        Assert.Equal([true, false], step.States.Select(s => s.IsWeight));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW(weightDecay: -0.1));
    }

    [Fact]
    public void NadamsMomentumProduct_IsWrittenToTheCheckpoint_AndReadBack()
    {
        var rule = new Nadam(0.01);
        var score = new NeuralBasics.Scoring.LinearScore<double>(2, 3, seed: 1);
        var states = score.Parameters.Select(p => rule.CreateState<double>(p.Value.Span.Length)).ToArray();
        foreach (var state in states)
        {
            state.Step = 4;
            // A value a rebuild from the step would not give: only reading it from the file restores it.
            state.RestoreScalar("momentum_product", 0.125);
        }
        var progress = new NeuralBasics.Training.TrainingState<double> { Epoch = 1, Shuffler = new NeuralBasics.Training.ShuffleRandom(1) };
        progress.History.Add(new NeuralBasics.Training.EpochResult(1, 0.5, 0, 0.5, null));
        string path = Path.Combine(Path.GetTempPath(), $"nadam-{Guid.NewGuid():N}.ckpt");
        try
        {
            NeuralBasics.Training.CheckpointFile.Save(path, score.Parameters, states, rule, progress);
            var restored = score.Parameters.Select(p => rule.CreateState<double>(p.Value.Span.Length)).ToArray();
            NeuralBasics.Training.CheckpointFile.Load(path, score.Parameters, restored, rule, epochs: 2, batchesPerEpoch: 4);
            Assert.All(restored, s => Assert.Equal(0.125, ((NadamState<double>)s).MomentumProduct));
            Assert.All(restored, s => Assert.Equal(4, s.Step));
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Throws<ArgumentException>(() => rule.CreateState<double>(2).RestoreScalar("momentum_product", 1.5));
        Assert.Throws<ArgumentException>(() => new Adam(0.1).CreateState<double>(2).RestoreScalar("momentum_product", 0.5));
    }

    [Fact]
    public void Adamax_WithEpsilonInsideTheMaximum_FollowsPyTorch()
    {
        // torch.optim.Adamax: u = max(β2·u, |g| + ε), w −= lr/(1 − β1^t) · m/u.
        ExpectIterates(new Adamax(0.1, epsilonPlacement: AdamaxEpsilon.InsideMax),
            [0.900000001, -0.9000000002499999, 0.8051683281165902, -0.8051683266948658, 0.7154994747368055, -0.7154994727200896]);
        // The two placements differ (by about ε/|g| relative), so the option is not a no-op.
        double[] denominator = [1, -1], inside = [1, -1];
        var a = new Adamax(0.1, epsilon: 1e-3);
        var b = new Adamax(0.1, epsilon: 1e-3, epsilonPlacement: AdamaxEpsilon.InsideMax);
        var sa = a.CreateState<double>(2);
        var sb = b.CreateState<double>(2);
        for (int t = 0; t < 3; t++)
        {
            a.Apply<double>(denominator, [denominator[0], 4 * denominator[1]], sa);
            b.Apply<double>(inside, [inside[0], 4 * inside[1]], sb);
        }
        Assert.NotEqual(denominator[0], inside[0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adamax(epsilonPlacement: (AdamaxEpsilon)7));
    }
}
