using System.Globalization;
using System.Numerics;
using System.Text.Json.Nodes;
using NeuralBasics.Serialization;

namespace NeuralBasics.Training;

/// <summary>
/// The settings that shape a run's trajectory, as a checkpoint records them: the rule and its
/// hyperparameters (learning-rate schedule included), the gradient transforms, the loss, the
/// regularizer, the batch size, shuffling, seed, worker count, and the epoch-level policies. The
/// epoch count is not among them: resuming to train longer is what a checkpoint is for.
/// </summary>
internal static class RunSettings
{
    public static JsonObject Describe<T>(TrainingSetup<T> setup, TrainerOptions options)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var settings = new JsonObject
        {
            ["rule"] = ComponentRegistry.DescribeOrName(setup.Update.Rule),
            ["transforms"] = new JsonArray([.. setup.Update.Transforms.Select(t => (JsonNode)ComponentRegistry.DescribeOrName(t))]),
            ["loss"] = ComponentRegistry.DescribeOrName(setup.Loss),
            ["regularizer"] = ComponentRegistry.DescribeOrName(setup.Regularizer),
            ["batch_size"] = options.BatchSize,
            ["shuffle"] = options.Shuffle,
            ["seed"] = options.Seed,
            ["workers"] = options.Workers,
            ["skip_non_finite_batches"] = options.SkipNonFiniteBatches,
        };
        if (options.EarlyStopping is { } early)
            settings["early_stopping"] = new JsonObject
            {
                ["metric"] = early.Metric.ToString(), ["patience"] = early.Patience, ["min_delta"] = early.MinDelta,
            };
        if (options.ReduceOnPlateau is { } plateau)
            settings["reduce_on_plateau"] = new JsonObject
            {
                ["factor"] = plateau.Factor, ["patience"] = plateau.Patience, ["threshold"] = plateau.Threshold,
                ["cooldown"] = plateau.Cooldown, ["minimum_scale"] = plateau.MinimumScale,
            };
        return settings;
    }

    /// <summary>
    /// Each setting that differs between <paramref name="recorded"/> and <paramref name="current"/>,
    /// as <c>path = recorded value</c> and the current one (<c>(none)</c> where a side lacks it), in
    /// the recorded order.
    /// </summary>
    public static List<(string Path, string Recorded, string Current)> Differences(JsonObject recorded, JsonObject current)
    {
        var before = Flatten(recorded);
        var now = Flatten(current);
        var differences = new List<(string, string, string)>();
        foreach (var (path, value) in before)
            if (!now.TryGetValue(path, out string? other) || other != value)
                differences.Add((path, value, other ?? "(none)"));
        foreach (var (path, value) in now)
            if (!before.ContainsKey(path))
                differences.Add((path, "(none)", value));
        return differences;
    }

    private static Dictionary<string, string> Flatten(JsonNode? node)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        void Walk(JsonNode? n, string path)
        {
            switch (n)
            {
                case JsonObject o:
                    foreach (var (key, child) in o)
                        Walk(child, path.Length == 0 ? key : $"{path}.{key}");
                    break;
                case JsonArray a:
                    for (int i = 0; i < a.Count; i++)
                        Walk(a[i], string.Create(CultureInfo.InvariantCulture, $"{path}[{i}]"));
                    if (a.Count == 0)
                        values[path] = "[]";
                    break;
                default:
                    values[path] = n?.ToJsonString() ?? "null";
                    break;
            }
        }
        Walk(node, "");
        return values;
    }
}
