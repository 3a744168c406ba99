using System.Numerics;
using System.Text.Json.Nodes;
using NeuralBasics.Models;
using NeuralBasics.Serialization;

namespace NeuralBasics.Training;

/// <summary>
/// Early stopping's bookkeeping between epochs: the best epoch, its metric and weights, and the
/// epochs since. It records an epoch, puts the best weights back, and writes, reads and
/// range-checks itself as the checkpoint's <c>early_stopping</c> entry and <c>best/</c> tensors.
/// </summary>
internal sealed class EarlyStoppingState<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private const string Key = "early_stopping";

    /// <summary>The weights of the best epoch so far, one array per parameter tensor.</summary>
    public T[][]? BestWeights { get; private set; }

    /// <summary>The best epoch so far, or null.</summary>
    public int? BestEpoch { get; private set; }

    /// <summary>The watched metric at <see cref="BestEpoch"/> (NaN before).</summary>
    public double BestMetric { get; private set; } = double.NaN;

    /// <summary>Epochs in a row since <see cref="BestEpoch"/>.</summary>
    public int EpochsWithoutImprovement { get; private set; }

    /// <summary>
    /// The bookkeeping after an epoch: keeps the weights when <paramref name="result"/> improves the
    /// watched metric, else counts against the patience; true when it has run out.
    /// </summary>
    public bool Record(EarlyStopping early, EpochResult result, IReadOnlyList<Parameter<T>> parameters)
    {
        double metric = early.Metric == EarlyStoppingMetric.ValidationLoss ? result.ValidationLoss!.Value : result.ValidationAccuracy!.Value;
        bool improved = BestEpoch is null || (early.Metric == EarlyStoppingMetric.ValidationLoss
            ? metric < BestMetric - early.MinDelta
            : metric > BestMetric + early.MinDelta);
        if (!improved)
            return ++EpochsWithoutImprovement >= early.Patience;
        BestWeights ??= [.. parameters.Select(p => new T[p.Value.Span.Length])];
        for (int k = 0; k < parameters.Count; k++)
            parameters[k].Value.Span.CopyTo(BestWeights[k]);
        BestMetric = metric;
        BestEpoch = result.Epoch;
        EpochsWithoutImprovement = 0;
        return false;
    }

    /// <summary>Puts the best epoch's weights back, when there is one, and names it in <paramref name="history"/>.</summary>
    public void RestoreBest(IReadOnlyList<Parameter<T>> parameters, TrainingHistory history)
    {
        if (BestWeights is null)
            return;
        for (int k = 0; k < parameters.Count; k++)
            BestWeights[k].CopyTo(parameters[k].Value.Span);
        history.BestEpoch = BestEpoch;
    }

    /// <summary>Writes the entry and the best weights, when there is a best epoch.</summary>
    public void Write(Dictionary<string, string> metadata, List<TensorEntry> tensors, IReadOnlyList<Parameter<T>> parameters)
    {
        if (BestEpoch is not { } best)
            return;
        metadata[Key] = new JsonObject
        {
            ["best_epoch"] = best, ["best_metric"] = BestMetric, ["epochs_without_improvement"] = EpochsWithoutImprovement,
        }.ToJsonString();
        for (int k = 0; k < parameters.Count; k++)
            tensors.Add(new TensorEntry(CheckpointNames.Best(parameters[k].Name), ModelFile.DType<T>(),
                [parameters[k].Value.Rows, parameters[k].Value.Columns], ModelFile.Bytes<T>(BestWeights![k])));
    }

    /// <summary>
    /// The state a checkpoint holds (a fresh one when it has none), range-checked against its
    /// <paramref name="epoch"/>; the best weights read into new arrays.
    /// </summary>
    /// <exception cref="InvalidDataException">The entry is malformed or out of range, or the entry and the best weights do not come together.</exception>
    public static EarlyStoppingState<T> Read(Dictionary<string, string> metadata, Dictionary<string, TensorEntry> tensors,
        IReadOnlyList<Parameter<T>> parameters, int epoch, string dtype)
    {
        var state = new EarlyStoppingState<T>();
        bool hasBest = parameters.Any(p => tensors.ContainsKey(CheckpointNames.Best(p.Name)));
        if (metadata.TryGetValue(Key, out string? text))
        {
            var entry = StrictJson.Parse(text, $"'{Key}'")!.AsObject();
            int best = entry["best_epoch"]!.GetValue<int>();
            state.BestEpoch = best;
            state.BestMetric = entry["best_metric"]!.GetValue<double>();
            state.EpochsWithoutImprovement = entry["epochs_without_improvement"]!.GetValue<int>();
            if (best < 1 || best > epoch)
                throw new InvalidDataException($"The checkpoint's best epoch {best} is outside 1 to {epoch}.");
            if (state.EpochsWithoutImprovement < 0 || state.EpochsWithoutImprovement > epoch - best)
                throw new InvalidDataException(
                    $"The checkpoint counts {state.EpochsWithoutImprovement} epochs without improvement after its best epoch {best} of {epoch}.");
            if (!double.IsFinite(state.BestMetric))
                throw new InvalidDataException($"The checkpoint's best metric is {state.BestMetric}.");
        }
        if (hasBest != state.BestEpoch.HasValue)
            throw new InvalidDataException(hasBest
                ? "The checkpoint holds best weights but no early-stopping state."
                : "The checkpoint has early-stopping state but no best weights.");
        if (!hasBest)
            return state;
        state.BestWeights = new T[parameters.Count][];
        for (int k = 0; k < parameters.Count; k++)
        {
            state.BestWeights[k] = new T[parameters[k].Value.Span.Length];
            ModelFile.ReadInto<T>(tensors, CheckpointNames.Best(parameters[k].Name), state.BestWeights[k],
                [parameters[k].Value.Rows, parameters[k].Value.Columns], dtype);
        }
        return state;
    }
}
