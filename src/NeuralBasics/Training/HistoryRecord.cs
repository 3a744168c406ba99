using System.Text.Json.Nodes;
using NeuralBasics.Models;
using NeuralBasics.Serialization;

namespace NeuralBasics.Training;

/// <summary>The training history as a checkpoint's <c>history</c> entry: written, read and range-checked here.</summary>
internal static class HistoryRecord
{
    private const string Key = "history";

    /// <summary>Writes one JSON object per completed epoch.</summary>
    public static void Write(Dictionary<string, string> metadata, TrainingHistory history) =>
        metadata[Key] = new JsonArray([.. history.Epochs.Select(e => (JsonNode)Describe(e))]).ToJsonString();

    /// <summary>The epochs a checkpoint at <paramref name="epoch"/> holds, one per epoch done.</summary>
    /// <exception cref="InvalidDataException">An entry is missing, out of order or out of range.</exception>
    public static List<EpochResult> Read(Dictionary<string, string> metadata, int epoch)
    {
        List<EpochResult> history = [.. StrictJson.Parse(ModelFile.Required(metadata, Key), $"'{Key}'")!.AsArray().Select(n => Parse(n!.AsObject()))];
        Check(epoch, history);
        return history;
    }

    /// <summary>One history entry per epoch, in order, with sane figures.</summary>
    private static void Check(int epoch, List<EpochResult> history)
    {
        if (history.Count != epoch)
            throw new InvalidDataException($"The checkpoint is at epoch {epoch} but its history has {history.Count} epochs.");
        for (int i = 0; i < history.Count; i++)
        {
            var e = history[i];
            static bool Fraction(double? v) => v is null || v is >= 0 and <= 1;
            static bool NonNegative(double? v) => v is null || (v >= 0 && double.IsFinite(v.Value));
            if (e.Epoch != i + 1 || !NonNegative(e.DataLoss) || !NonNegative(e.RegularizationLoss) || !Fraction(e.TrainingAccuracy)
                || !Fraction(e.ValidationAccuracy) || !NonNegative(e.ValidationLoss) || e.Duration < TimeSpan.Zero || !NonNegative(e.SamplesPerSecond) || !(e.LearningRateScale is > 0 and <= 1))
                throw new InvalidDataException($"History entry {i + 1} of the checkpoint is out of range: {e}.");
        }
    }

    private static JsonObject Describe(EpochResult e) => new()
    {
        ["epoch"] = e.Epoch,
        ["data_loss"] = e.DataLoss,
        ["regularization_loss"] = e.RegularizationLoss,
        ["training_accuracy"] = e.TrainingAccuracy,
        ["validation_accuracy"] = e.ValidationAccuracy,
        ["validation_loss"] = e.ValidationLoss,
        ["duration_ticks"] = e.Duration.Ticks,
        ["samples_per_second"] = e.SamplesPerSecond,
        ["learning_rate_scale"] = e.LearningRateScale,
    };

    private static EpochResult Parse(JsonObject o) => new(
        o["epoch"]!.GetValue<int>(),
        o["data_loss"]!.GetValue<double>(),
        o["regularization_loss"]!.GetValue<double>(),
        o["training_accuracy"]!.GetValue<double>(),
        o["validation_accuracy"]?.GetValue<double>(),
        TimeSpan.FromTicks(o["duration_ticks"]!.GetValue<long>()),
        o["validation_loss"]?.GetValue<double>(),
        o["samples_per_second"]!.GetValue<double>()) { LearningRateScale = o["learning_rate_scale"]?.GetValue<double>() ?? 1 };
}
