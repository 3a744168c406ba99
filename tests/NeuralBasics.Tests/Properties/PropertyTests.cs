using System.Numerics;
using CsCheck;
using NeuralBasics.Activations;
using NeuralBasics.Diagnostics;
using NeuralBasics.Layers;
using NeuralBasics.Kernels;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;

namespace NeuralBasics.Tests.Properties;

/// <summary>
/// Property-based tests (CsCheck): random shapes and values, a few hundred cases each. Each run
/// starts from the fixed seed and then explores new cases; a failure is shrunk to a minimal case and
/// reported with the seed that reproduces it (<c>CsCheck_Seed=...</c>).
/// </summary>
public class PropertyTests
{
    /// <summary>The fixed seed of every property here (CsCheck's seed format).</summary>
    private const string Seed = "0000000000001";

    /// <summary>Sizes 1..300 in each dimension, at most 2M multiply-adds so the naive reference stays quick.</summary>
    private static readonly Gen<(int M, int N, int K)> Sizes =
        Gen.Select(Gen.Int[1, 300], Gen.Int[1, 300], Gen.Int[1, 300]).Where(s => (long)s.Item1 * s.Item2 * s.Item3 <= 2_000_000);

    private static void GemmMatchesNaive<T>(int m, int n, int k, int form, bool accumulate, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var a = form == 1 ? TestData.Uniform<T>(k, m, seed) : TestData.Uniform<T>(m, k, seed);
        var b = form == 2 ? TestData.Uniform<T>(n, k, seed + 1) : TestData.Uniform<T>(k, n, seed + 1);
        var c = TestData.Uniform<T>(m, n, seed + 2);
        var c0 = c.Clone();
        switch (form)
        {
            case 0: Gemm.Multiply(a, b, c, accumulate); break;
            case 1: Gemm.MultiplyTransposeA(a, b, c, accumulate); break;
            default: Gemm.MultiplyTransposeB(a, b, c, accumulate); break;
        }
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = accumulate ? double.CreateChecked(c0[i, j]) : 0, abs = Math.Abs(sum);
                for (int p = 0; p < k; p++)
                {
                    double term = double.CreateChecked(form == 1 ? a[p, i] : a[i, p]) * double.CreateChecked(form == 2 ? b[j, p] : b[p, j]);
                    sum += term;
                    abs += Math.Abs(term);
                }
                double tolerance = (k + 2) * TestData.Epsilon<T>() * abs + 1e-300;
                if (!(Math.Abs(double.CreateChecked(c[i, j]) - sum) <= tolerance))
                    throw new Exception($"C[{i},{j}] = {c[i, j]}, expected {sum} ± {tolerance}");
            }
        }
    }

    [Fact]
    public void Gemm_MatchesTheNaiveProduct_float() =>
        Gen.Select(Sizes, Gen.Int[0, 2], Gen.Bool, Gen.Int[0, 1000])
            .Sample((s, form, accumulate, seed) => GemmMatchesNaive<float>(s.M, s.N, s.K, form, accumulate, seed), seed: Seed, iter: 200, threads: 1);

    [Fact]
    public void Gemm_MatchesTheNaiveProduct_double() =>
        Gen.Select(Sizes, Gen.Int[0, 2], Gen.Bool, Gen.Int[0, 1000])
            .Sample((s, form, accumulate, seed) => GemmMatchesNaive<double>(s.M, s.N, s.K, form, accumulate, seed), seed: Seed, iter: 200, threads: 1);

    [Fact]
    public void RowKernels_MatchScalarLoops() =>
        Gen.Select(Gen.Int[1, 300], Gen.Int[1, 300], Gen.Int[0, 1000]).Sample((rows, columns, seed) =>
        {
            var x = TestData.Uniform<double>(rows, columns, seed, scale: 20);
            var p = new Matrix<double>(rows, columns);
            var arg = new int[rows];
            var sums = new double[columns];
            RowOps.SoftmaxRows<double>(x, p);
            RowOps.RowArgMax<double>(x, arg);
            RowOps.ColumnSums<double>(x, sums);
            for (int i = 0; i < rows; i++)
            {
                var row = x.Row(i).ToArray();
                double max = row.Max(), total = row.Sum(v => Math.Exp(v - max));
                if (arg[i] != Array.IndexOf(row, max))
                    throw new Exception($"argmax of row {i}");
                for (int j = 0; j < columns; j++)
                    if (Math.Abs(p[i, j] - Math.Exp(row[j] - max) / total) > 1e-14)
                        throw new Exception($"softmax [{i},{j}]");
            }
            for (int j = 0; j < columns; j++)
            {
                double expected = 0;
                for (int i = 0; i < rows; i++)
                    expected += x[i, j];
                if (Math.Abs(sums[j] - expected) > 1e-12 * rows * 20)
                    throw new Exception($"column sum {j}");
            }
        }, seed: Seed, iter: 200, threads: 1);

    private static ILoss Loss(int which, int classes) => which switch
    {
        0 => new MulticlassHingeLoss(0.5 + classes % 3),
        1 => new SquaredHingeLoss(1.0),
        2 => SoftmaxCrossEntropyLoss.Instance,
        _ => new SoftmaxCrossEntropyLoss([.. Enumerable.Range(0, classes).Select(c => 1.0 + c % 3)]),
    };

    [Fact]
    public void EveryLossGradient_MatchesCentralDifferences() =>
        Gen.Select(Gen.Int[1, 32], Gen.Int[2, 10], Gen.Int[0, 3], Gen.Int[0, 1000]).Sample((n, c, which, seed) =>
        {
            var loss = Loss(which, c);
            var scores = TestData.Uniform<double>(n, c, seed, scale: 3);
            var random = new Random(seed);
            int[] labels = [.. Enumerable.Range(0, n).Select(_ => random.Next(c))];
            var gradient = new Matrix<double>(n, c);
            loss.Compute<double>(scores, labels, gradient);
            var result = GradientCheck.Check(() => loss.Compute<double>(scores, labels, default), scores.Memory, gradient.Span);
            // The hinge losses have kinks; random scores land within h of one only rarely, but a
            // property test would find them, so kinks (margins within 1e-3 of 0) are excluded.
            if (which < 2 && NearKink(scores, labels, which == 0 ? 0.5 + c % 3 : 1.0))
                return;
            if (result.MaxRelativeError >= 1e-6)
                throw new Exception($"{loss}: {result}");
        }, seed: Seed, iter: 200, threads: 1);

    private static bool NearKink(Matrix<double> scores, int[] labels, double delta)
    {
        for (int i = 0; i < scores.Rows; i++)
            for (int j = 0; j < scores.Columns; j++)
                if (j != labels[i] && Math.Abs(scores[i, j] - scores[i, labels[i]] + delta) < 1e-3)
                    return true;
        return false;
    }

    private static IActivation Activation(int which) => which switch
    {
        0 => new Sigmoid(),
        1 => new Tanh(),
        2 => new Relu(),
        _ => new LeakyRelu(0.1),
    };

    [Fact]
    public void EveryActivationGradient_MatchesCentralDifferences() =>
        Gen.Select(Gen.Int[0, 3], Gen.Int[1, 64], Gen.Int[0, 1000]).Sample((which, length, seed) =>
        {
            var f = Activation(which);
            var x = TestData.Uniform<double>(1, length, seed, scale: 6).Span.ToArray();
            // Keep away from the ReLU kink, where the derivative does not exist.
            for (int i = 0; i < x.Length; i++)
                if (Math.Abs(x[i]) < 1e-3)
                    x[i] = 0.5;
            var c = TestData.Uniform<double>(1, length, seed + 1).Span.ToArray();
            var y = new double[length];
            var dx = new double[length];
            f.Forward<double>(x, y);
            f.Backward<double>(x, y, c, dx);
            double Objective()
            {
                var fy = new double[length];
                f.Forward<double>(x, fy);
                return fy.Select((v, i) => v * c[i]).Sum();
            }
            // Saturated units have derivatives far below 1e-3, where rounding noise in the central
            // difference, not the math, sets the relative error: judge those by absolute error.
            var result = GradientCheck.Check(Objective, x, dx, step: 1e-5, floor: 1e-3);
            if (result.MaxRelativeError >= 1e-6)
                throw new Exception($"{f}: {result}");
        }, seed: Seed, iter: 200, threads: 1);

    /// <summary>2- and 3-layer networks (dense with any activation, or maxout), any loss, random shapes: every gradient.</summary>
    [Fact]
    public void NetworkGradients_MatchCentralDifferences() =>
        Gen.Select(Gen.Select(Gen.Int[1, 6], Gen.Int[1, 8], Gen.Int[2, 5]), Gen.Select(Gen.Int[2, 3], Gen.Int[0, 4], Gen.Int[0, 3]), Gen.Int[0, 1000])
            .Sample((shape, kind, seed) =>
            {
                var (n, d, c) = shape;
                var (depth, layer, lossKind) = kind;
                var builder = new NetworkBuilder<double>(d, seed: seed);
                for (int l = 0; l < depth - 1; l++)
                {
                    if (layer == 4)
                        builder.Maxout(3 + l, pieces: 2 + l);
                    else
                        builder.Dense(3 + l, Activation(layer));
                }
                var net = builder.Dense(c).Build();
                // Biases start at exactly 0, so a unit fed by dead ReLUs would sit exactly on the
                // kink at 0, where no derivative exists: give every bias a small random value.
                foreach (var (p, k) in net.Parameters.Where(p => !p.IsRegularized).Select((p, k) => (p, k)))
                    TestData.Uniform<double>(1, p.Value.Span.Length, seed + 17 * k, scale: 0.3).Span.CopyTo(p.Value.Span);
                var loss = Loss(lossKind == 0 ? 2 : lossKind == 1 ? 1 : lossKind == 2 ? 3 : 2, c);
                var x = TestData.Uniform<double>(n, d, seed, scale: 1.5);
                var random = new Random(seed);
                int[] y = [.. Enumerable.Range(0, n).Select(_ => random.Next(c))];

                double Objective()
                {
                    var s = new Matrix<double>(n, c);
                    net.Forward(x, s);
                    return loss.Compute<double>(s, y, default);
                }

                var scores = new Matrix<double>(n, c);
                var dScores = new Matrix<double>(n, c);
                var dx = new Matrix<double>(n, d);
                net.Forward(x, scores);
                loss.Compute<double>(scores, y, dScores);
                net.Backward(x, dScores, dx);
                var gradients = net.Parameters.Select(p => (p.Name, p.Value.Memory, p.Gradient.Span.ToArray())).ToList();
                gradients.Add(("X", x.Memory, dx.Span.ToArray()));
                foreach (var (name, values, gradient) in gradients)
                {
                    // Entries below 1e-3 are judged by absolute error (floor): across random networks
                    // some input gradients are tiny, and there rounding noise, not the math, dominates.
                    var result = GradientCheck.Check(Objective, values, gradient, step: 1e-5, floor: 1e-3);
                    // ReLU and maxout have kinks, and the squared hinge's second derivative jumps at
                    // the margin; a random point within h of one is rare but a property test finds it,
                    // so a failure is only reported if it survives a smaller step, at 1e-4.
                    if (result.MaxRelativeError >= 1e-6)
                        result = GradientCheck.Check(Objective, values, gradient, step: 1e-7, floor: 1e-3);
                    if (result.MaxRelativeError >= 1e-4)
                        throw new Exception($"{net}, {loss}, d{name}: {result}");
                }
            }, seed: Seed, iter: 150, threads: 1);

    private static UpdateRule Rule(int which, double learningRate) => Tests.Optimizers.RuleTable.All[which].WithRate(learningRate);

    [Fact]
    public void EveryRule_LeavesParametersUnchanged_ForAZeroGradient() =>
        Gen.Select(Gen.Int[0, Tests.Optimizers.RuleTable.All.Length - 1], Gen.Int[1, 100], Gen.Int[0, 1000]).Sample((which, length, seed) =>
        {
            var rule = Rule(which, 0.1);
            var w = TestData.Uniform<double>(1, length, seed).Span.ToArray();
            var before = (double[])w.Clone();
            // Marked as a bias: decoupled weight decay (AdamW) shrinks weights even on a zero gradient, by design.
            var state = rule.CreateState<double>(length) with { IsWeight = false };
            for (int t = 0; t < 3; t++)
                rule.Apply<double>(w, new double[length], state);
            if (!w.SequenceEqual(before))
                throw new Exception($"{rule.GetType().Name} moved the parameters on a zero gradient");
        }, seed: Seed, iter: 200, threads: 1);

    [Fact]
    public void EveryRule_TakesAVanishingStep_AsTheLearningRateVanishes() =>
        Gen.Select(Gen.Int[0, Tests.Optimizers.RuleTable.All.Length - 1], Gen.Int[1, 50], Gen.Int[0, 1000]).Sample((which, length, seed) =>
        {
            var small = Rule(which, 1e-12);
            var w = TestData.Uniform<double>(1, length, seed).Span.ToArray();
            var g = TestData.Uniform<double>(1, length, seed + 1).Span.ToArray();
            var before = (double[])w.Clone();
            small.Apply<double>(w, g, small.CreateState<double>(length));
            // AdaDelta's first step does not scale with g (it is about √ε), so its bound is looser.
            double bound = small is AdaDelta ? 1e-14 : 1e-10;
            for (int i = 0; i < length; i++)
                if (Math.Abs(w[i] - before[i]) > bound)
                    throw new Exception($"{small.GetType().Name}: step {w[i] - before[i]} at lr 1e-12");
        }, seed: Seed, iter: 200, threads: 1);

    [Fact]
    public void NesterovWithZeroMomentum_EqualsSgd() =>
        Gen.Select(Gen.Int[1, 50], Gen.Double[1e-4, 1], Gen.Int[0, 1000]).Sample((length, lr, seed) =>
        {
            var sgd = new Sgd(lr);
            var nesterov = new Nesterov(lr, mu: 0);
            var a = TestData.Uniform<double>(1, length, seed).Span.ToArray();
            var b = (double[])a.Clone();
            var (sa, sb) = (sgd.CreateState<double>(length), nesterov.CreateState<double>(length));
            for (int t = 0; t < 4; t++)
            {
                var g = TestData.Uniform<double>(1, length, seed + t).Span.ToArray();
                sgd.Apply<double>(a, g, sa);
                nesterov.Apply<double>(b, g, sb);
            }
            if (!a.SequenceEqual(b))
                throw new Exception("Nesterov with μ = 0 differs from SGD");
        }, seed: Seed, iter: 200, threads: 1);
}
