using System.Text.Json.Nodes;
using NeuralBasics.Serialization;

namespace NeuralBasics.Training;

/// <summary>
/// Reduce-on-plateau's bookkeeping between epochs: the learning-rate multiplier, the best monitored
/// loss, the epochs without improvement and the cooldown left. It records an epoch, and writes,
/// reads and range-checks itself as the checkpoint's <c>reduce_on_plateau</c> entry.
/// </summary>
internal sealed class PlateauState
{
    private const string Key = "reduce_on_plateau";

    /// <summary>The learning-rate multiplier (1 until the first reduction).</summary>
    public double Scale { get; private set; } = 1;

    /// <summary>The best monitored loss (NaN before the first epoch).</summary>
    public double Best { get; private set; } = double.NaN;

    /// <summary>Epochs without improvement.</summary>
    public int Epochs { get; private set; }

    /// <summary>Cooldown epochs left.</summary>
    public int Cooldown { get; private set; }

    /// <summary>The bookkeeping after an epoch whose monitored loss is <paramref name="loss"/>.</summary>
    public void Record(ReduceOnPlateau policy, double loss)
    {
        bool improved = double.IsNaN(Best) || loss < Best * (1 - policy.Threshold);
        if (improved)
        {
            Best = loss;
            Epochs = 0;
        }
        if (Cooldown > 0)
        {
            // Cooling down after a reduction: bad epochs do not count yet.
            Cooldown--;
            return;
        }
        if (!improved && ++Epochs >= policy.Patience)
        {
            Scale = Math.Max(Scale * policy.Factor, policy.MinimumScale);
            Epochs = 0;
            Cooldown = policy.Cooldown;
        }
    }

    /// <summary>Writes the entry, when there is anything to write.</summary>
    public void Write(Dictionary<string, string> metadata)
    {
        if (double.IsNaN(Best) && Scale == 1)
            return;
        var entry = new JsonObject { ["scale"] = Scale, ["epochs_without_improvement"] = Epochs, ["cooldown"] = Cooldown };
        if (double.IsFinite(Best))
            entry["best"] = Best;
        metadata[Key] = entry.ToJsonString();
    }

    /// <summary>The state a checkpoint holds (a fresh one when it has none), range-checked against its <paramref name="epoch"/>.</summary>
    /// <exception cref="InvalidDataException">The entry is malformed or out of range.</exception>
    public static PlateauState Read(Dictionary<string, string> metadata, int epoch)
    {
        var state = new PlateauState();
        if (!metadata.TryGetValue(Key, out string? text))
            return state;
        var entry = StrictJson.Parse(text, $"'{Key}'")!.AsObject();
        state.Scale = entry["scale"]!.GetValue<double>();
        state.Best = entry["best"]?.GetValue<double>() ?? double.NaN;
        state.Epochs = entry["epochs_without_improvement"]!.GetValue<int>();
        state.Cooldown = entry["cooldown"]!.GetValue<int>();
        if (!(state.Scale is > 0 and <= 1) || state.Epochs < 0 || state.Epochs > epoch || state.Cooldown < 0 || state.Cooldown > epoch
            || double.IsInfinity(state.Best))
            throw new InvalidDataException(
                $"The checkpoint's reduce-on-plateau state is out of range: scale {state.Scale}, best {state.Best}, " +
                $"{state.Epochs} epochs without improvement, cooldown {state.Cooldown}.");
        return state;
    }
}
