using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using NeuralBasics.Optimizers;
using NeuralBasics.Scoring;
using NeuralBasics.Serialization;

namespace NeuralBasics.Training;

/// <summary>
/// A training checkpoint as one safetensors file: the parameters ("param/NAME"), every update-rule
/// state array ("state/K/BUFFER"), early stopping's best weights ("best/NAME"), and in the metadata
/// the epoch, the shuffling generator's state, the step counts (the schedule position), the rule's
/// type and the history so far. Written atomically; loaded all-or-nothing.
/// </summary>
internal static class CheckpointFile
{
    internal const string FormatName = "neuralbasics.checkpoint";

    public static void Save<T>(string path, IReadOnlyList<Parameter<T>> parameters, IReadOnlyList<UpdateState> states, UpdateRule rule,
        TrainingState<T> progress, JsonObject? settings = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var bestWeights = progress.BestWeights;
        string dtype = ModelFile.DType<T>();
        var tensors = new List<TensorEntry>();
        foreach (var p in parameters)
            tensors.Add(ModelFile.Tensor("param/" + p.Name, p.Value));
        for (int k = 0; k < states.Count; k++)
            foreach (var (name, values) in states[k].Buffers)
                tensors.Add(new TensorEntry($"state/{k}/{name}", dtype, [values.Length], ModelFile.Bytes<T>((T[])values)));
        if (bestWeights is not null)
            for (int k = 0; k < parameters.Count; k++)
                tensors.Add(new TensorEntry("best/" + parameters[k].Name, dtype, [parameters[k].Value.Rows, parameters[k].Value.Columns],
                    ModelFile.Bytes<T>(bestWeights[k])));

        var metadata = new Dictionary<string, string>
        {
            ["format"] = FormatName,
            ["format_version"] = ModelFile.FormatVersion.ToString(CultureInfo.InvariantCulture),
            ["element_type"] = dtype,
            ["rule"] = rule.GetType().Name,
            ["epoch"] = progress.Epoch.ToString(CultureInfo.InvariantCulture),
            ["random_state"] = progress.Shuffler.State.ToString(CultureInfo.InvariantCulture),
            ["steps"] = new JsonArray([.. states.Select(s => (JsonNode)s.Step)]).ToJsonString(),
            ["history"] = new JsonArray([.. progress.History.Epochs.Select(e => (JsonNode)Describe(e))]).ToJsonString(),
        };
        if (settings is not null)
            metadata["settings"] = settings.ToJsonString();
        if (progress.BestEpoch is { } best)
        {
            metadata["early_stopping"] = new JsonObject
            {
                ["best_epoch"] = best, ["best_metric"] = progress.BestMetric, ["epochs_without_improvement"] = progress.EpochsWithoutImprovement,
            }.ToJsonString();
        }
        if (states.Any(s => s.Scalars.Count > 0))
        {
            metadata["state_scalars"] = new JsonArray([.. states.Select(s =>
                (JsonNode)new JsonObject([.. s.Scalars.Select(v => KeyValuePair.Create(v.Key, (JsonNode?)v.Value))]))]).ToJsonString();
        }
        if (!double.IsNaN(progress.PlateauBest) || progress.LearningRateScale != 1)
        {
            var plateau = new JsonObject
            {
                ["scale"] = progress.LearningRateScale, ["epochs_without_improvement"] = progress.PlateauEpochs, ["cooldown"] = progress.PlateauCooldown,
            };
            if (double.IsFinite(progress.PlateauBest))
                plateau["best"] = progress.PlateauBest;
            metadata["reduce_on_plateau"] = plateau.ToJsonString();
        }
        Integrity.Stamp(metadata, tensors);
        AtomicFile.Write(path, stream => SafeTensors.Write(stream, metadata, tensors));
    }

    /// <summary>
    /// Reads a checkpoint and, only when all of it checks out, copies it into
    /// <paramref name="parameters"/> and <paramref name="states"/>.
    /// </summary>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="parameters">The network's parameters, filled only when everything checks out.</param>
    /// <param name="states">The rule's states, one per parameter tensor, likewise.</param>
    /// <param name="rule">The rule the run uses; the checkpoint must name the same.</param>
    /// <param name="epochs">The run's epoch count: a checkpoint cannot be past it.</param>
    /// <param name="batchesPerEpoch">Steps per epoch: a tensor cannot have taken more than epoch x this many steps.</param>
    /// <param name="settings">The resuming run's settings (<see cref="RunSettings"/>): they must equal the recorded ones ...</param>
    /// <param name="allowChangedSettings">... unless this is true.</param>
    public static TrainingState<T> Load<T>(string path, IReadOnlyList<Parameter<T>> parameters,
        IReadOnlyList<UpdateState> states, UpdateRule rule, int epochs, int batchesPerEpoch, JsonObject? settings = null, bool allowChangedSettings = true)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        byte[] file = File.ReadAllBytes(path);
        try
        {
            return Load(file, parameters, states, rule, epochs, batchesPerEpoch, settings, allowChangedSettings);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    internal static TrainingState<T> Load<T>(byte[] file, IReadOnlyList<Parameter<T>> parameters, IReadOnlyList<UpdateState> states,
        UpdateRule rule, int epochs, int batchesPerEpoch, JsonObject? settings = null, bool allowChangedSettings = true)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (metadata, tensors) = SafeTensors.Read(file);
        Integrity.Verify(metadata, tensors.Values, required: ModelFile.CheckFormat(metadata, FormatName, "checkpoint") >= 2);
        string dtype = ModelFile.Required(metadata, "element_type");
        if (dtype != ModelFile.DType<T>())
            throw new InvalidDataException($"The checkpoint holds {dtype} values but the trainer works in {typeof(T).Name}.");
        string ruleName = ModelFile.Required(metadata, "rule");
        if (ruleName != rule.GetType().Name)
            throw new InvalidDataException($"The checkpoint was written with the {ruleName} rule but the trainer uses {rule.GetType().Name}.");
        if (settings is not null && !allowChangedSettings && metadata.TryGetValue("settings", out string? recordedText))
            CheckSettings(StrictJson.Parse(recordedText, "'settings'") as JsonObject
                ?? throw new InvalidDataException("The checkpoint's settings are not a JSON object."), settings);

        var progress = new CheckpointProgress();
        long[] steps;
        try
        {
            progress.Epoch = int.Parse(ModelFile.Required(metadata, "epoch"), CultureInfo.InvariantCulture);
            progress.RandomState = ulong.Parse(ModelFile.Required(metadata, "random_state"), CultureInfo.InvariantCulture);
            steps = [.. StrictJson.Parse(ModelFile.Required(metadata, "steps"), "'steps'")!.AsArray().Select(n => n!.GetValue<long>())];
            progress.History = [.. StrictJson.Parse(ModelFile.Required(metadata, "history"), "'history'")!.AsArray().Select(n => Parse(n!.AsObject()))];
            if (metadata.TryGetValue("early_stopping", out string? early))
            {
                var e = StrictJson.Parse(early, "'early_stopping'")!.AsObject();
                progress.BestEpoch = e["best_epoch"]!.GetValue<int>();
                progress.BestMetric = e["best_metric"]!.GetValue<double>();
                progress.EpochsWithoutImprovement = e["epochs_without_improvement"]!.GetValue<int>();
            }
            if (metadata.TryGetValue("state_scalars", out string? scalars))
                progress.Scalars = [.. StrictJson.Parse(scalars, "'state_scalars'")!.AsArray()
                    .Select(n => n!.AsObject().Select(v => KeyValuePair.Create(v.Key, v.Value!.GetValue<double>())).ToList())];
            if (metadata.TryGetValue("reduce_on_plateau", out string? plateau))
            {
                var p = StrictJson.Parse(plateau, "'reduce_on_plateau'")!.AsObject();
                progress.LearningRateScale = p["scale"]!.GetValue<double>();
                progress.PlateauBest = p["best"]?.GetValue<double>() ?? double.NaN;
                progress.PlateauEpochs = p["epochs_without_improvement"]!.GetValue<int>();
                progress.PlateauCooldown = p["cooldown"]!.GetValue<int>();
            }
        }
        catch (Exception e) when (e is FormatException or OverflowException or InvalidOperationException or NullReferenceException
            or System.Text.Json.JsonException)
        {
            throw new InvalidDataException($"The checkpoint's progress metadata is malformed: {e.Message}", e);
        }
        if (steps.Length != states.Count)
            throw new InvalidDataException($"The checkpoint has state for {steps.Length} tensors but the network has {states.Count}.");
        if (progress.Scalars is { } stored && stored.Count != states.Count)
            throw new InvalidDataException($"The checkpoint has state numbers for {stored.Count} tensors but the network has {states.Count}.");
        CheckProgress(progress, steps, epochs, batchesPerEpoch);
        // The rules' own numbers, tried on copies of the states: nothing changes unless all of them fit.
        for (int k = 0; k < states.Count && progress.Scalars is { } numbers; k++)
        {
            foreach (var (name, value) in numbers[k])
            {
                try
                {
                    (states[k] with { Step = steps[k] }).RestoreScalar(name, value);
                }
                catch (ArgumentException e)
                {
                    throw new InvalidDataException($"The checkpoint's state number {name} of tensor {k} does not fit: {e.Message}", e);
                }
            }
        }

        // Only the tensors this network and rule would write: anything else is not this run's.
        var expected = parameters.Select(p => "param/" + p.Name)
            .Concat(states.SelectMany((state, k) => state.Buffers.Select(b => $"state/{k}/{b.Key}")))
            .Concat(parameters.Select(p => "best/" + p.Name)).ToHashSet(StringComparer.Ordinal);
        if (tensors.Keys.FirstOrDefault(name => !expected.Contains(name)) is { } stray)
            throw new InvalidDataException($"The checkpoint holds a tensor '{stray}' that this network and rule do not have.");
        bool hasBest = parameters.Any(p => tensors.ContainsKey("best/" + p.Name));
        if (hasBest != progress.BestEpoch.HasValue)
            throw new InvalidDataException(hasBest
                ? "The checkpoint holds best weights but no early-stopping state."
                : "The checkpoint has early-stopping state but no best weights.");

        // Read everything into fresh arrays first: nothing is changed unless all of it is valid.
        var values = new T[parameters.Count][];
        for (int k = 0; k < parameters.Count; k++)
        {
            var p = parameters[k];
            values[k] = new T[p.Value.Span.Length];
            ModelFile.ReadInto<T>(tensors, "param/" + p.Name, values[k], [p.Value.Rows, p.Value.Columns], dtype);
        }
        var buffers = new List<(Array Target, T[] Values)>();
        for (int k = 0; k < states.Count; k++)
        {
            foreach (var (name, target) in states[k].Buffers)
            {
                var read = new T[target.Length];
                ModelFile.ReadInto<T>(tensors, $"state/{k}/{name}", read, [target.Length], dtype);
                buffers.Add((target, read));
            }
        }
        T[][]? best = null;
        if (hasBest)
        {
            best = new T[parameters.Count][];
            for (int k = 0; k < parameters.Count; k++)
            {
                best[k] = new T[parameters[k].Value.Span.Length];
                ModelFile.ReadInto<T>(tensors, "best/" + parameters[k].Name, best[k], [parameters[k].Value.Rows, parameters[k].Value.Columns], dtype);
            }
        }

        for (int k = 0; k < parameters.Count; k++)
            values[k].CopyTo(parameters[k].Value.Span);
        foreach (var (target, read) in buffers)
            read.CopyTo((T[])target, 0);
        for (int k = 0; k < states.Count; k++)
        {
            states[k].Step = steps[k];
            foreach (var (name, value) in progress.Scalars?[k] ?? [])
                states[k].RestoreScalar(name, value);
        }
        var state = new TrainingState<T>
        {
            Epoch = progress.Epoch, Shuffler = new ShuffleRandom(progress.RandomState), BestWeights = best, BestEpoch = progress.BestEpoch,
            BestMetric = progress.BestMetric, EpochsWithoutImprovement = progress.EpochsWithoutImprovement,
            LearningRateScale = progress.LearningRateScale, PlateauBest = progress.PlateauBest, PlateauEpochs = progress.PlateauEpochs,
            PlateauCooldown = progress.PlateauCooldown,
        };
        foreach (var epochResult in progress.History)
            state.History.Add(epochResult);
        return state;
    }

    /// <summary>
    /// Every number a checkpoint carries, range-checked against the run it resumes: the epoch
    /// between 1 and the run's epoch count, one history entry per epoch in order with sane figures,
    /// every tensor at the same step count and no more steps than the epochs allowed, and early
    /// stopping's best epoch and patience counter within the epochs done.
    /// </summary>
    private static void CheckProgress(CheckpointProgress progress, long[] steps, int epochs, int batchesPerEpoch)
    {
        if (progress.Epoch < 1 || progress.Epoch > epochs)
            throw new InvalidDataException($"The checkpoint's epoch is {progress.Epoch} but the run has epochs 1 to {epochs}.");
        if (progress.History.Count != progress.Epoch)
            throw new InvalidDataException($"The checkpoint is at epoch {progress.Epoch} but its history has {progress.History.Count} epochs.");
        for (int i = 0; i < progress.History.Count; i++)
        {
            var e = progress.History[i];
            static bool Fraction(double? v) => v is null || v is >= 0 and <= 1;
            static bool NonNegative(double? v) => v is null || (v >= 0 && double.IsFinite(v.Value));
            if (e.Epoch != i + 1 || !NonNegative(e.DataLoss) || !NonNegative(e.RegularizationLoss) || !Fraction(e.TrainingAccuracy)
                || !Fraction(e.ValidationAccuracy) || !NonNegative(e.ValidationLoss) || e.Duration < TimeSpan.Zero || !NonNegative(e.SamplesPerSecond) || !(e.LearningRateScale is > 0 and <= 1))
                throw new InvalidDataException($"History entry {i + 1} of the checkpoint is out of range: {e}.");
        }
        long maxSteps = (long)progress.Epoch * batchesPerEpoch;
        foreach (long step in steps)
        {
            if (step < 0 || step > maxSteps)
                throw new InvalidDataException(
                    $"The checkpoint's step count {step} is outside 0 to {maxSteps} ({progress.Epoch} epochs of {batchesPerEpoch} batches).");
            if (step != steps[0])
                throw new InvalidDataException($"The checkpoint's tensors have different step counts ({steps[0]} and {step}).");
        }
        if (!(progress.LearningRateScale is > 0 and <= 1) || progress.PlateauEpochs < 0 || progress.PlateauEpochs > progress.Epoch
            || progress.PlateauCooldown < 0 || progress.PlateauCooldown > progress.Epoch || double.IsInfinity(progress.PlateauBest))
            throw new InvalidDataException(
                $"The checkpoint's reduce-on-plateau state is out of range: scale {progress.LearningRateScale}, best {progress.PlateauBest}, " +
                $"{progress.PlateauEpochs} epochs without improvement, cooldown {progress.PlateauCooldown}.");
        if (progress.BestEpoch is { } best)
        {
            if (best < 1 || best > progress.Epoch)
                throw new InvalidDataException($"The checkpoint's best epoch {best} is outside 1 to {progress.Epoch}.");
            if (progress.EpochsWithoutImprovement < 0 || progress.EpochsWithoutImprovement > progress.Epoch - best)
                throw new InvalidDataException(
                    $"The checkpoint counts {progress.EpochsWithoutImprovement} epochs without improvement after its best epoch {best} of {progress.Epoch}.");
            if (!double.IsFinite(progress.BestMetric))
                throw new InvalidDataException($"The checkpoint's best metric is {progress.BestMetric}.");
        }
    }

    /// <summary>The progress figures as read, before they are checked and become a <see cref="TrainingState{T}"/>.</summary>
    private sealed class CheckpointProgress
    {
        public int Epoch;
        public ulong RandomState;
        public List<EpochResult> History = [];
        public int? BestEpoch;
        public double BestMetric = double.NaN;
        public int EpochsWithoutImprovement;
        public double LearningRateScale = 1;
        public List<List<KeyValuePair<string, double>>>? Scalars;
        public double PlateauBest = double.NaN;
        public int PlateauEpochs;
        public int PlateauCooldown;
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

    /// <summary>Refuses a resume whose settings differ from the recorded run's, naming every difference.</summary>
    private static void CheckSettings(JsonObject recorded, JsonObject current)
    {
        var differences = RunSettings.Differences(recorded, current);
        if (differences.Count == 0)
            return;
        throw new InvalidDataException(
            $"The checkpoint continues a run with other settings: {string.Join("; ", differences.Select(d => $"{d.Path} was {d.Recorded}, now {d.Current}"))}. " +
            "Resume with the settings of the run it continues, or set TrainerOptions.AllowChangedSettingsOnResume to go on with the new ones.");
    }
}
