using System.Globalization;
using System.Numerics;
using System.Text.Json.Nodes;
using NeuralBasics.Models;
using NeuralBasics.Optimizers;
using NeuralBasics.Serialization;

namespace NeuralBasics.Training;

/// <summary>
/// A training checkpoint as one safetensors file: the parameters, every state array of the rule and
/// the transforms, early stopping's best weights (tensor names: <see cref="CheckpointNames"/>), and
/// in the metadata the epoch, the shuffling generator's state, the step counts (the schedule
/// position), the rule's type, the run's settings (<see cref="RunSettings"/>), the history so far
/// and the policies' own entries (<see cref="EarlyStoppingState{T}"/>, <see cref="PlateauState"/>).
/// Written atomically; loaded all-or-nothing.
/// </summary>
internal static class CheckpointFile
{
    internal const string FormatName = "neuralbasics.checkpoint";

    public static void Save<T>(string path, IReadOnlyList<Parameter<T>> parameters, IReadOnlyList<UpdateState> states, UpdateRule rule,
        TrainingState<T> progress, JsonObject? settings = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        string dtype = ModelFile.DType<T>();
        var tensors = new List<TensorEntry>();
        foreach (var p in parameters)
            tensors.Add(ModelFile.Tensor(CheckpointNames.Parameter(p.Name), p.Value));
        for (int k = 0; k < states.Count; k++)
            foreach (var (name, values) in states[k].Buffers)
                tensors.Add(new TensorEntry(CheckpointNames.State(k, name), dtype, [values.Length], ModelFile.Bytes<T>((T[])values)));

        var metadata = new Dictionary<string, string>
        {
            ["format"] = FormatName,
            ["format_version"] = ModelFile.FormatVersion.ToString(CultureInfo.InvariantCulture),
            ["element_type"] = dtype,
            ["rule"] = rule.GetType().Name,
            ["epoch"] = progress.Epoch.ToString(CultureInfo.InvariantCulture),
            ["steps"] = new JsonArray([.. states.Select(s => (JsonNode)s.Step)]).ToJsonString(),
        };
        progress.Shuffler.Write(metadata);
        HistoryRecord.Write(metadata, progress.History);
        if (settings is not null)
            metadata["settings"] = settings.ToJsonString();
        progress.EarlyStopping.Write(metadata, tensors, parameters);
        if (states.Any(s => s.Scalars.Count > 0))
        {
            metadata["state_scalars"] = new JsonArray([.. states.Select(s =>
                (JsonNode)new JsonObject([.. s.Scalars.Select(v => KeyValuePair.Create(v.Key, (JsonNode?)v.Value))]))]).ToJsonString();
        }
        progress.Plateau.Write(metadata);
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

        int epoch;
        ShuffleRandom shuffler;
        long[] steps;
        List<EpochResult> history;
        List<List<KeyValuePair<string, double>>>? scalars = null;
        EarlyStoppingState<T> early;
        PlateauState plateau;
        try
        {
            epoch = int.Parse(ModelFile.Required(metadata, "epoch"), CultureInfo.InvariantCulture);
            shuffler = ShuffleRandom.Read(metadata);
            steps = [.. StrictJson.Parse(ModelFile.Required(metadata, "steps"), "'steps'")!.AsArray().Select(n => n!.GetValue<long>())];
            if (epoch < 1 || epoch > epochs)
                throw new InvalidDataException($"The checkpoint's epoch is {epoch} but the run has epochs 1 to {epochs}.");
            history = HistoryRecord.Read(metadata, epoch);
            if (metadata.TryGetValue("state_scalars", out string? numbers))
                scalars = [.. StrictJson.Parse(numbers, "'state_scalars'")!.AsArray()
                    .Select(n => n!.AsObject().Select(v => KeyValuePair.Create(v.Key, v.Value!.GetValue<double>())).ToList())];
            plateau = PlateauState.Read(metadata, epoch);
            early = EarlyStoppingState<T>.Read(metadata, tensors, parameters, epoch, dtype);
        }
        catch (Exception e) when (e is FormatException or OverflowException or InvalidOperationException or NullReferenceException
            or System.Text.Json.JsonException)
        {
            throw new InvalidDataException($"The checkpoint's progress metadata is malformed: {e.Message}", e);
        }
        if (steps.Length != states.Count)
            throw new InvalidDataException($"The checkpoint has state for {steps.Length} tensors but the network has {states.Count}.");
        if (scalars is { } stored && stored.Count != states.Count)
            throw new InvalidDataException($"The checkpoint has state numbers for {stored.Count} tensors but the network has {states.Count}.");
        CheckSteps(steps, epoch, batchesPerEpoch);
        // The rules' own numbers, tried on copies of the states: nothing changes unless all of them fit.
        for (int k = 0; k < states.Count && scalars is { } values; k++)
        {
            foreach (var (name, value) in values[k])
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

        // Only the tensors this network and chain would write: anything else is not this run's.
        var expected = parameters.Select(p => CheckpointNames.Parameter(p.Name))
            .Concat(states.SelectMany((state, k) => state.Buffers.Select(b => CheckpointNames.State(k, b.Key))))
            .Concat(parameters.Select(p => CheckpointNames.Best(p.Name))).ToHashSet(StringComparer.Ordinal);
        if (tensors.Keys.FirstOrDefault(name => !expected.Contains(name)) is { } stray)
            throw new InvalidDataException($"The checkpoint holds a tensor '{stray}' that this network and rule do not have.");

        // Read everything into fresh arrays first: nothing is changed unless all of it is valid.
        var weights = new T[parameters.Count][];
        for (int k = 0; k < parameters.Count; k++)
        {
            var p = parameters[k];
            weights[k] = new T[p.Value.Span.Length];
            ModelFile.ReadInto<T>(tensors, CheckpointNames.Parameter(p.Name), weights[k], [p.Value.Rows, p.Value.Columns], dtype);
        }
        var buffers = new List<(Array Target, T[] Values)>();
        for (int k = 0; k < states.Count; k++)
        {
            foreach (var (name, target) in states[k].Buffers)
            {
                var read = new T[target.Length];
                ModelFile.ReadInto<T>(tensors, CheckpointNames.State(k, name), read, [target.Length], dtype);
                buffers.Add((target, read));
            }
        }

        for (int k = 0; k < parameters.Count; k++)
            weights[k].CopyTo(parameters[k].Value.Span);
        foreach (var (target, read) in buffers)
            read.CopyTo((T[])target, 0);
        for (int k = 0; k < states.Count; k++)
        {
            states[k].Step = steps[k];
            foreach (var (name, value) in scalars?[k] ?? [])
                states[k].RestoreScalar(name, value);
        }
        var state = new TrainingState<T> { Epoch = epoch, Shuffler = shuffler, EarlyStopping = early, Plateau = plateau };
        foreach (var epochResult in history)
            state.History.Add(epochResult);
        return state;
    }

    /// <summary>Every tensor at the same step count, and no more steps than the epochs allowed.</summary>
    private static void CheckSteps(long[] steps, int epoch, int batchesPerEpoch)
    {
        long maxSteps = (long)epoch * batchesPerEpoch;
        foreach (long step in steps)
        {
            if (step < 0 || step > maxSteps)
                throw new InvalidDataException(
                    $"The checkpoint's step count {step} is outside 0 to {maxSteps} ({epoch} epochs of {batchesPerEpoch} batches).");
            if (step != steps[0])
                throw new InvalidDataException($"The checkpoint's tensors have different step counts ({steps[0]} and {step}).");
        }
    }

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
