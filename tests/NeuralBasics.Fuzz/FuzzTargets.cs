using System.Text;
using NeuralBasics.Csv;
using NeuralBasics.Data;
using NeuralBasics.Layers;
using NeuralBasics.Models;
using NeuralBasics.Optimizers;
using NeuralBasics.Training;

namespace NeuralBasics.Fuzz;

/// <summary>
/// The parsers of outside bytes, each wrapped so that its documented failure for malformed input,
/// InvalidDataException, counts as handled: any other exception (an ArgumentException from a
/// dependency, OutOfMemoryException), a hang or a crash is a bug.
/// </summary>
public static class FuzzTargets
{
    /// <summary>The target names, one per parser.</summary>
    public static readonly string[] Names = ["idx", "csv", "model", "checkpoint"];

    /// <summary>Feeds <paramref name="input"/> to the named parser; returns whether it loaded.</summary>
    public static bool Run(string target, ReadOnlySpan<byte> input)
    {
        try
        {
            switch (target)
            {
                case "idx":
                    Idx.Read(new MemoryStream(input.ToArray()));
                    break;
                case "csv":
                    CsvDataSet.Parse<float>(Encoding.UTF8.GetString(input));
                    break;
                case "model":
                    ModelFile.Load<float>(input.ToArray());
                    break;
                case "checkpoint":
                    var net = new NetworkBuilder<float>(3, seed: 1).Dense(4, new NeuralBasics.Activations.Relu()).Dense(2).Build();
                    var rule = new Adam();
                    var states = net.Parameters.Select(p => rule.CreateState<float>(p.Value.Span.Length)).ToArray();
                    CheckpointFile.Load(input.ToArray(), net.Parameters, states, rule, epochs: 10, batchesPerEpoch: 100);
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(target), target, $"Unknown fuzz target; known: {string.Join(", ", Names)}.");
            }
            return true;
        }
        catch (InvalidDataException)
        {
            return false;
        }
    }
}
