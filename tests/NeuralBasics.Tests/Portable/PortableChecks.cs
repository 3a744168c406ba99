using System.Globalization;
using System.Numerics;
using NeuralBasics.Activations;
using NeuralBasics.Kernels;
using NeuralBasics.Losses;
using NeuralBasics.Models;

namespace NeuralBasics.Tests.Portable;

/// <summary>
/// The architecture-specific code against plain scalar references, runnable without xUnit: every
/// GEMM form and kernel shape (tile, short tiles, narrow, one row, split K) in float and double, the
/// row kernels, the activations and the losses. <c>NeuralBasics.Tests portable</c> runs it — on
/// Arm64 under qemu from <see cref="Arm64Tests"/> — and <c>predict FILE</c> prints a saved model's
/// scores for fixed rows, so a model saved on x64 is checked on Arm64.
/// </summary>
internal static class PortableChecks
{
    /// <summary>Runs every check; returns how many comparisons passed, or throws naming the first failure.</summary>
    public static int Run()
    {
        int checks = 0;
        (int M, int K, int N)[] shapes =
        [
            (1, 1, 1), (3, 5, 7), (12, 8, 1), (13, 17, 19), (1, 784, 256), (2, 300, 64), (5, 1000, 3), (128, 256, 10),
            (64, 64, 64), (100, 37, 129), (37, 600, 200), (130, 520, 70),
        ];
        foreach (var (m, k, n) in shapes)
        {
            checks += Gemm<float>(m, k, n, 1e-4);
            checks += Gemm<double>(m, k, n, 1e-12);
        }
        checks += Rows<float>(1e-6) + Rows<double>(1e-14);
        checks += Activations<float>(1e-6) + Activations<double>(1e-14);
        checks += Losses<float>(1e-5) + Losses<double>(1e-12);
        checks += PooledPass<float>() + PooledPass<double>();
        return checks;
    }

    /// <summary>
    /// <paramref name="layers"/> run one at a time, as no network fuses them: every layer's output
    /// (<paramref name="x"/> first), then the backward passes from <paramref name="outputGradient"/>
    /// down to the gradient of <paramref name="x"/>.
    /// </summary>
    internal static (List<Matrix<T>> Outputs, Matrix<T> InputGradient) LayersApart<T>(IReadOnlyList<NeuralBasics.Layers.ILayer<T>> layers,
        Matrix<T> x, Matrix<T> outputGradient)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var outputs = new List<Matrix<T>> { x };
        foreach (var layer in layers)
        {
            var y = new Matrix<T>(x.Rows, layer.OutputCount);
            layer.Forward(outputs[^1], y);
            outputs.Add(y);
        }
        var gradient = outputGradient;
        for (int l = layers.Count - 1; l >= 0; l--)
        {
            var below = new Matrix<T>(x.Rows, layers[l].InputCount);
            layers[l].Backward(outputs[l], outputs[l + 1], gradient, below);
            gradient = below;
        }
        return (outputs, gradient);
    }

    /// <summary>
    /// The one-pass convolution → ReLU → 2 x 2 max-pooling (its own kernels: the blocks in registers,
    /// the weight gradient in slices) against the three layers apart, bit for bit: scores, input
    /// gradient and every parameter's gradient, on a batch deep enough for the sliced weight gradient.
    /// </summary>
    private static int PooledPass<T>()
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int filters = 2 * NeuralBasics.Kernels.ConvReluPool<T>.Lanes, batch = 80;
        var net = new NeuralBasics.Layers.NetworkBuilder<T>(new NeuralBasics.Layers.ImageShape(2, 10, 8), seed: 3)
            .Conv2D(filters, 3, padding: 1, new Relu()).MaxPool2D(2).Dense(4).Build();
        if (!net.RunsPooled(0))
            throw new InvalidOperationException($"the convolution of {typeof(T).Name} does not run as one pass with its ReLU and pooling");
        var random = new Random(5);
        var x = new Matrix<T>(batch, net.InputCount);
        var dScores = new Matrix<T>(batch, 4);
        foreach (ref T v in x.Span)
            v = T.CreateChecked(random.NextDouble() * 2 - 1);
        foreach (ref T v in dScores.Span)
            v = T.CreateChecked(random.NextDouble() - 0.5);
        var scores = new Matrix<T>(batch, 4);
        var dx = new Matrix<T>(batch, net.InputCount);
        var fused = net.Clone();
        fused.Forward(x, scores);
        fused.Backward(x, dScores, dx);

        var layers = net.Clone().Layers;
        var (outputs, gradient) = LayersApart(layers, x, dScores);
        int checks = 0;
        void Same(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, string what)
        {
            for (int i = 0; i < expected.Length; i++)
                if (!expected[i].Equals(actual[i]))
                    throw new InvalidOperationException($"pooled pass ({typeof(T).Name}) {what}[{i}]: {actual[i]}, the layers apart {expected[i]}");
            checks++;
        }
        Same(outputs[^1].Span, scores.Span, "scores");
        Same(gradient.Span, dx.Span, "input gradient");
        var apart = layers.SelectMany(l => l.Parameters).ToArray();
        for (int k = 0; k < apart.Length; k++)
            Same(apart[k].Gradient.Span, fused.Parameters[k].Gradient.Span, apart[k].Name);
        return checks;
    }

    private static int Gemm<T>(int m, int k, int n, double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(m * 1_000_003 + k * 1009 + n);
        Matrix<T> Random(int rows, int columns)
        {
            var x = new Matrix<T>(rows, columns);
            for (int i = 0; i < x.Span.Length; i++)
                x.Span[i] = T.CreateChecked(random.NextDouble() * 2 - 1);
            return x;
        }
        var a = Random(m, k);
        var b = Random(k, n);
        var at = Transpose(a);
        var bt = Transpose(b);
        var start = Random(m, n);
        int checks = 0;
        foreach (bool accumulate in new[] { false, true })
        {
            var expected = new double[m * n];
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double sum = accumulate ? double.CreateChecked(start[i, j]) : 0;
                    for (int p = 0; p < k; p++)
                        sum += double.CreateChecked(a[i, p]) * double.CreateChecked(b[p, j]);
                    expected[i * n + j] = sum;
                }
            foreach (string form in new[] { "A·B", "Aᵀ·B", "A·Bᵀ" })
            {
                var c = new Matrix<T>(m, n);
                start.Span.CopyTo(c.Span);
                switch (form)
                {
                    case "A·B": NeuralBasics.Kernels.Gemm.Multiply(a, b, c, accumulate); break;
                    case "Aᵀ·B": NeuralBasics.Kernels.Gemm.MultiplyTransposeA(at, b, c, accumulate); break;
                    default: NeuralBasics.Kernels.Gemm.MultiplyTransposeB(a, bt, c, accumulate); break;
                }
                for (int e = 0; e < expected.Length; e++)
                    Near(expected[e], c.Span[e], tolerance * Math.Sqrt(k + 1), $"GEMM {form} [{m}x{k}]·[{k}x{n}] accumulate {accumulate}, element {e}");
                checks++;
            }
            if (NeuralBasics.Kernels.Gemm.GathersProduct<T>(m, n, k))
            {
                // Aᵀ gathered, its k rows m + 3 apart in a longer array (as a convolution's weight gradient reads its padded images).
                var source = new T[k * (m + 3)];
                for (int p = 0; p < k; p++)
                    at.Row(p).CopyTo(source.AsSpan(p * (m + 3), m));
                int[] offsets = [.. Enumerable.Range(0, k).Select(p => p * (m + 3))];
                int[] columns = [.. Enumerable.Range(0, m)];
                var c = new Matrix<T>(m, n);
                start.Span.CopyTo(c.Span);
                NeuralBasics.Kernels.Gemm.MultiplyTransposeAGathered<T>(source, offsets, columns, b.AsReadOnlySpan(), c.AsSpan(), accumulate);
                for (int e = 0; e < expected.Length; e++)
                    Near(expected[e], c.Span[e], tolerance * Math.Sqrt(k + 1), $"GEMM Aᵀ gathered [{m}x{k}]·[{k}x{n}] accumulate {accumulate}, element {e}");
                checks++;
            }
        }
        return checks;
    }

    private static Matrix<T> Transpose<T>(Matrix<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var t = new Matrix<T>(x.Columns, x.Rows);
        for (int i = 0; i < x.Rows; i++)
            for (int j = 0; j < x.Columns; j++)
                t[j, i] = x[i, j];
        return t;
    }

    private static int Rows<T>(double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int checks = 0;
        foreach (var (rows, columns) in new[] { (1, 1), (3, 10), (7, 33), (64, 129) })
        {
            var random = new Random(rows * 31 + columns);
            var x = new Matrix<T>(rows, columns);
            for (int i = 0; i < x.Span.Length; i++)
                x.Span[i] = T.CreateChecked(random.NextDouble() * 20 - 10);
            var softmax = new Matrix<T>(rows, columns);
            RowOps.SoftmaxRows<T>(x, softmax);
            var argmax = new int[rows];
            RowOps.RowArgMax<T>(x, argmax);
            var sums = new T[columns];
            RowOps.ColumnSums<T>(x, sums);
            for (int i = 0; i < rows; i++)
            {
                var row = x.AsReadOnlySpan().Row(i);
                double max = double.NegativeInfinity, total = 0;
                int best = 0;
                for (int j = 0; j < columns; j++)
                {
                    double v = double.CreateChecked(row[j]);
                    if (v > max)
                        (max, best) = (v, j);
                }
                for (int j = 0; j < columns; j++)
                    total += Math.Exp(double.CreateChecked(row[j]) - max);
                for (int j = 0; j < columns; j++)
                    Near(Math.Exp(double.CreateChecked(row[j]) - max) / total, softmax[i, j], tolerance, $"softmax row {i} of [{rows}x{columns}]");
                if (argmax[i] != best)
                    throw new InvalidOperationException($"argmax of row {i} of [{rows}x{columns}] is {argmax[i]}, expected {best}");
            }
            for (int j = 0; j < columns; j++)
            {
                double sum = 0;
                for (int i = 0; i < rows; i++)
                    sum += double.CreateChecked(x[i, j]);
                Near(sum, sums[j], tolerance * 10 * rows, $"column sum {j} of [{rows}x{columns}]");
            }
            checks += 3;
        }
        return checks;
    }

    private static int Activations<T>(double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = new T[1031];
        for (int i = 0; i < x.Length; i++)
            x[i] = T.CreateChecked((i - 515) / 40.0);
        (IActivation Activation, Func<double, double> Reference)[] cases =
        [
            (new Relu(), v => Math.Max(0, v)), (new LeakyRelu(0.1), v => v > 0 ? v : 0.1 * v),
            (new Sigmoid(), v => 1 / (1 + Math.Exp(-v))), (new Tanh(), Math.Tanh),
        ];
        foreach (var (activation, reference) in cases)
        {
            var y = new T[x.Length];
            activation.Forward<T>(x, y);
            for (int i = 0; i < x.Length; i++)
                Near(reference(double.CreateChecked(x[i])), y[i], tolerance, $"{activation} at {x[i]}");
        }
        return cases.Length;
    }

    private static int Losses<T>(double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(9);
        int n = 37, c = 10;
        var scores = new Matrix<T>(n, c);
        for (int i = 0; i < scores.Span.Length; i++)
            scores.Span[i] = T.CreateChecked(random.NextDouble() * 6 - 3);
        int[] labels = [.. Enumerable.Range(0, n).Select(i => (i * 7) % c)];
        (ILoss Loss, Func<int, double> Reference)[] cases =
        [
            (SoftmaxCrossEntropyLoss.Instance, i =>
            {
                double max = Enumerable.Range(0, c).Max(j => double.CreateChecked(scores[i, j]));
                return Math.Log(Enumerable.Range(0, c).Sum(j => Math.Exp(double.CreateChecked(scores[i, j]) - max))) - (double.CreateChecked(scores[i, labels[i]]) - max);
            }),
            (new MulticlassHingeLoss(), i => Enumerable.Range(0, c).Where(j => j != labels[i])
                .Sum(j => Math.Max(0, double.CreateChecked(scores[i, j]) - double.CreateChecked(scores[i, labels[i]]) + 1))),
            (new SquaredHingeLoss(), i => Enumerable.Range(0, c).Where(j => j != labels[i])
                .Sum(j => Math.Pow(Math.Max(0, double.CreateChecked(scores[i, j]) - double.CreateChecked(scores[i, labels[i]]) + 1), 2))),
        ];
        foreach (var (loss, reference) in cases)
            Near(Enumerable.Range(0, n).Average(reference), loss.Compute<T>(scores, labels, default), tolerance, $"{loss}");
        return cases.Length;
    }

    private static void Near<T>(double expected, T actual, double tolerance, string what)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double value = double.CreateChecked(actual);
        if (!(Math.Abs(value - expected) <= tolerance * Math.Max(1, Math.Abs(expected))))
            throw new InvalidOperationException($"{what}: {value}, expected {expected}");
    }

    /// <summary>The scores of the model in <paramref name="path"/> for fixed rows, one round-trip number per line.</summary>
    public static IEnumerable<string> Predict(string path)
    {
        var model = Classifier<float>.Load(path);
        var rows = NeuralBasics.Data.SyntheticData.Blobs<float>(4, model.ClassCount, model.InputCount, seed: 8).Features;
        return model.Scores(rows).Span.ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture));
    }
}
