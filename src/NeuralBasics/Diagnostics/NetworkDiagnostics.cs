using System.Globalization;
using System.Numerics;
using System.Text;
using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Layers;
using NeuralBasics.Losses;

namespace NeuralBasics.Diagnostics;

/// <summary>
/// Looking inside a model as CS231n's "babysitting the learning process" suggests: a summary of its
/// layers and parameter counts, the initial-loss sanity check, the fraction of dead ReLU units, and
/// the update-to-weight ratio.
/// </summary>
public static class NetworkDiagnostics
{
    /// <summary>A table of the model's layers, each with its output width and parameter count, and the total.</summary>
    public static string Summary<T>(IScoreFunction<T> score)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(score);
        var rows = new List<(string Layer, string Output, long Parameters)> { ("input", $"{score.InputCount}", 0) };
        if (score is Sequential<T> network)
        {
            for (int l = 0; l < network.Layers.Count; l++)
            {
                var layer = network.Layers[l];
                rows.Add(($"{l}: {layer}", $"{layer.OutputCount}", layer.Parameters.Sum(p => (long)p.Value.Span.Length)));
            }
        }
        else
        {
            rows.Add((score.ToString() ?? score.GetType().Name, $"{score.ClassCount}", score.Parameters.Sum(p => (long)p.Value.Span.Length)));
        }
        long total = score.Parameters.Sum(p => (long)p.Value.Span.Length);
        int width = Math.Max("layer".Length, rows.Max(r => r.Layer.Length));
        var text = new StringBuilder();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{"layer".PadRight(width)}  {"outputs",8}  {"parameters",12}"));
        foreach (var (layer, output, parameters) in rows)
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{layer.PadRight(width)}  {output,8}  {parameters,12:N0}"));
        text.Append(string.Create(CultureInfo.InvariantCulture, $"{"total".PadRight(width)}  {"",8}  {total,12:N0}"));
        return text.ToString();
    }

    /// <summary>
    /// The data loss of <paramref name="score"/> as it stands on the first rows of <paramref name="data"/>
    /// (at most <paramref name="rows"/>), against the loss's chance value (see <see cref="InitialLossCheck"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The data does not fit the model, or the loss has no known chance value.</exception>
    public static InitialLossCheck InitialLoss<T>(IScoreFunction<T> score, ILoss loss, DataSet<T> data, int rows = 1024)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(score);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(data);
        Guard.AtLeast(rows, 1, "The number of rows", nameof(rows));
        if (data.FeatureCount != score.InputCount || data.ClassCount != score.ClassCount)
            throw new ArgumentException($"The data has {data.FeatureCount} features and {data.ClassCount} classes but {score} takes {score.InputCount} and scores {score.ClassCount}.", nameof(data));
        int c = score.ClassCount;
        double expected = ChanceLoss(loss, c) ?? throw new ArgumentException($"No chance value is known for {loss}.", nameof(loss));
        int n = Math.Min(rows, data.Count);
        var scores = new Matrix<T>(n, c);
        score.Clone().Forward(data.Features.AsReadOnlySpan().SliceRows(0, n), scores);
        double value = double.CreateChecked(loss.Compute<T>(scores, data.Labels[..n], default));
        return new InitialLossCheck(value, expected, n);
    }

    /// <summary>
    /// The data loss of <paramref name="classes"/> equal scores, as the loss states it
    /// (<see cref="ILoss.ChanceLoss"/>): ln C for softmax cross-entropy, (C − 1)·Δ for the multiclass
    /// hinge, (C − 1)·Δ² for the squared hinge; null for a loss that does not know it.
    /// </summary>
    public static double? ChanceLoss(ILoss loss, int classes)
    {
        ArgumentNullException.ThrowIfNull(loss);
        return loss.ChanceLoss(classes);
    }

    /// <summary>
    /// For each ReLU layer of <paramref name="network"/> (by its index), the fraction of its units whose
    /// output is 0 for every row of <paramref name="inputs"/>. Runs a forward pass on a copy.
    /// </summary>
    public static IReadOnlyDictionary<int, double> DeadReluFractions<T>(Sequential<T> network, ReadOnlyMatrixSpan<T> inputs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        var copy = network.Clone();
        var fractions = new Dictionary<int, double>();
        var current = new Matrix<T>(inputs.Rows, inputs.Columns);
        inputs.Span.CopyTo(current.Span);
        for (int l = 0; l < copy.Layers.Count; l++)
        {
            var layer = copy.Layers[l];
            var output = new Matrix<T>(inputs.Rows, layer.OutputCount);
            layer.Forward(current, output);
            if (layer is ActivationLayer<T> { Activation: Relu })
            {
                int dead = 0;
                for (int j = 0; j < layer.OutputCount; j++)
                {
                    bool alive = false;
                    for (int i = 0; i < inputs.Rows && !alive; i++)
                        alive = output[i, j] != T.Zero;
                    dead += alive ? 0 : 1;
                }
                fractions[l] = (double)dead / layer.OutputCount;
            }
            current = output;
        }
        return fractions;
    }

    /// <summary>‖after − before‖ / ‖after‖, the relative size of one update (0 for a zero tensor).</summary>
    public static double UpdateRatio<T>(ReadOnlySpan<T> before, ReadOnlySpan<T> after)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (before.Length != after.Length)
            throw new ArgumentException($"The tensors have {before.Length} and {after.Length} values.", nameof(after));
        double change = 0, size = 0;
        for (int i = 0; i < after.Length; i++)
        {
            double a = double.CreateChecked(after[i]), d = a - double.CreateChecked(before[i]);
            change += d * d;
            size += a * a;
        }
        return size > 0 ? Math.Sqrt(change / size) : 0;
    }
}
