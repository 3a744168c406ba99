using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using System.Text.Json;
using NeuralBasics.Components;
using NeuralBasics.Data;
using NeuralBasics.Serialization;
using NeuralBasics.Tables;

namespace NeuralBasics.Models;

/// <summary>
/// Saves and loads trained models as one safetensors file: the weights as tensors named like the
/// parameters ("W", "b", "0.W", ...), the standardizer as "standardizer.mean"/"standardizer.scale"
/// (F64), and the architecture, loss, class names, table schema (its encodings' values as JSON
/// numbers, which round-trip exactly) and a format version in the header's <c>__metadata__</c>. Any safetensors reader (Python's <c>safetensors</c>, numpy) can read the weights.
/// </summary>
/// <remarks>
/// Writing goes to a temporary file in the same folder that then replaces the target in one
/// rename, so a crash or error mid-write never leaves a half-written model where a good one was.
/// Loading checks everything before building anything: a truncated or corrupted file, a wrong
/// dtype or shape, a file that is not a model, or one written by a newer format version throws
/// <see cref="InvalidDataException"/> and returns no model.
/// </remarks>
public static class ModelFile
{
    /// <summary>
    /// The format version this library writes; it reads this version and every older one. Version 2
    /// added a SHA-256 checksum of the whole content, which files from version 2 on must carry;
    /// version 3 writes an XXH128 checksum instead (computed in managed code, no OpenSSL needed);
    /// version 4 may hold a table schema (<c>table_schema</c>), which an older reader would have
    /// ignored. Version 1 files have none and still load.
    /// </summary>
    public const int FormatVersion = 4;

    internal const string FormatName = "neuralbasics.model";

    /// <summary>Saves <paramref name="model"/> to <paramref name="path"/>, replacing any file there atomically.</summary>
    /// <exception cref="NotSupportedException">The model holds a component the format cannot describe.</exception>
    public static void Save<T>(Classifier<T> model, string path)
        where T : unmanaged, IFloatingPointIeee754<T> => Save(model, path, wrap: null);

    /// <summary>
    /// Writes <paramref name="model"/> to <paramref name="stream"/> in the same format as a file
    /// (the stream is left open; unlike a file save, a failure midway leaves what was written).
    /// </summary>
    /// <exception cref="ArgumentException">The stream cannot be written.</exception>
    /// <exception cref="NotSupportedException">The model holds a component the format cannot describe.</exception>
    public static void Save<T>(Classifier<T> model, Stream stream)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite)
            throw new ArgumentException("The stream cannot be written.", nameof(stream));
        var (metadata, tensors) = Contents(model);
        SafeTensors.Write(stream, metadata, tensors);
        stream.Flush();
    }

    /// <summary>
    /// Reads a model from <paramref name="stream"/> (from its current position to its end), with every
    /// check a file load makes. At most <see cref="Array.MaxLength"/> bytes are read; a longer stream is refused.
    /// </summary>
    /// <exception cref="ArgumentException">The stream cannot be read.</exception>
    /// <exception cref="InvalidDataException">The content is not a well-formed model of element type <typeparamref name="T"/>.</exception>
    public static Classifier<T> Load<T>(Stream stream)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead)
            throw new ArgumentException("The stream cannot be read.", nameof(stream));
        return Load<T>(ReadAll(stream));
    }

    /// <summary>The stream's remaining bytes, refused past Array.MaxLength rather than failing with OutOfMemoryException.</summary>
    private static byte[] ReadAll(Stream stream)
    {
        if (stream.CanSeek)
        {
            long length = stream.Length - stream.Position;
            if (length > Array.MaxLength)
                throw new InvalidDataException($"The stream holds {length} bytes, more than a model can ({Array.MaxLength}).");
            var bytes = new byte[length];
            stream.ReadExactly(bytes);
            return bytes;
        }
        using var copy = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = stream.Read(chunk)) > 0)
        {
            if (copy.Length + read > Array.MaxLength)
                throw new InvalidDataException($"The stream holds more than {Array.MaxLength} bytes, more than a model can.");
            copy.Write(chunk, 0, read);
        }
        return copy.ToArray();
    }

    /// <summary>Saves, letting a test wrap the output stream (to simulate a failure midway).</summary>
    internal static void Save<T>(Classifier<T> model, string path, Func<Stream, Stream>? wrap)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        var (metadata, tensors) = Contents(model);
        AtomicFile.Write(path, stream => SafeTensors.Write(wrap is null ? stream : wrap(stream), metadata, tensors));
    }

    /// <summary>The metadata and tensors a model is written as, the checksum stamped.</summary>
    private static (Dictionary<string, string> Metadata, List<TensorEntry> Tensors) Contents<T>(Classifier<T> model)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var score = model.FrozenScore;
        var metadata = new Dictionary<string, string>
        {
            ["format"] = FormatName,
            ["format_version"] = FormatVersion.ToString(CultureInfo.InvariantCulture),
            ["element_type"] = DType<T>(),
            ["score_function"] = ComponentRegistry.Describe(score).ToJsonString(),
            ["loss"] = ComponentRegistry.Describe(model.Loss).ToJsonString(),
        };
        if (model.ClassNames is { } names)
            metadata["class_names"] = new JsonArray([.. names.Select(n => (JsonNode)n)]).ToJsonString();
        if (model.Schema is { } schema)
            metadata["table_schema"] = TableSchemaJson.Describe(schema).ToJsonString();

        var tensors = score.Parameters.Select(p => Tensor(p.Name, p.Value)).ToList();
        if (model.Standardizer is { } standardizer)
        {
            tensors.Add(new TensorEntry("standardizer.mean", "F64", [standardizer.FeatureCount], Bytes<double>([.. standardizer.Means])));
            tensors.Add(new TensorEntry("standardizer.scale", "F64", [standardizer.FeatureCount], Bytes<double>([.. standardizer.Scales])));
        }
        Integrity.Stamp(metadata, tensors);
        return (metadata, tensors);
    }

    /// <summary>Loads a model saved by <see cref="Save{T}(Classifier{T}, string)"/>.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a well-formed model of element type <typeparamref name="T"/>.</exception>
    public static Classifier<T> Load<T>(string path)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] file = File.ReadAllBytes(path);
        try
        {
            return Load<T>(file);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    internal static Classifier<T> Load<T>(byte[] file)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (metadata, tensors) = SafeTensors.Read(file);
        Integrity.Verify(metadata, tensors.Values, required: CheckFormat(metadata, FormatName, "model") >= 2);
        string dtype = Required(metadata, "element_type");
        if (dtype != DType<T>())
            throw new InvalidDataException(
                $"The model holds {dtype} weights but was loaded as {typeof(T).Name}; load it as Classifier<{(dtype == "F32" ? "float" : "double")}>.");

        // Everything the file declares is checked against its tensors before any layer is built:
        // a header that declares a huge network but carries no weights allocates nothing.
        var description = ParseObject(metadata, "score_function");
        var lossDescription = ParseObject(metadata, "loss");
        var declared = ComponentRegistry.DeclaredParameters(description);
        foreach (var (name, rows, columns) in declared)
            CheckTensor(tensors, name, [rows, columns], dtype);
        var known = declared.Select(d => d.Name).Concat(["standardizer.mean", "standardizer.scale"]).ToHashSet();
        if (tensors.Keys.FirstOrDefault(name => !known.Contains(name)) is { } unknown)
            throw new InvalidDataException($"The file holds a tensor '{unknown}' that the architecture does not declare.");

        IScoreFunction<T> score;
        Losses.ILoss loss;
        try
        {
            score = ComponentRegistry.Read<IScoreFunction<T>>(description);
            loss = ComponentRegistry.Read<Losses.ILoss>(lossDescription);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"The architecture is inconsistent: {e.Message}", e);
        }
        if (!score.Parameters.Select(p => new ParameterShape(p.Name, p.Value.Rows, p.Value.Columns)).SequenceEqual(declared))
            throw new InvalidDataException(
                $"The architecture is inconsistent: it declares the tensors {string.Join(", ", declared.Select(d => $"{d.Name} {d.Rows}x{d.Columns}"))} but builds {string.Join(", ", score.Parameters.Select(p => $"{p.Name} {p.Value.Rows}x{p.Value.Columns}"))}.");
        ReadParameters(score.Parameters, tensors, dtype);
        foreach (var p in score.Parameters)
            CheckFinite<T>(p.Name, p.Value.Span);
        if (loss.ClassWeights is { } classWeights && classWeights.Count != score.ClassCount)
            throw new InvalidDataException($"The loss has {classWeights.Count} class weights but the model scores {score.ClassCount} classes.");

        Standardizer? standardizer = null;
        if (tensors.ContainsKey("standardizer.mean") || tensors.ContainsKey("standardizer.scale"))
        {
            double[] means = ReadDoubles(tensors, "standardizer.mean", score.InputCount);
            double[] scales = ReadDoubles(tensors, "standardizer.scale", score.InputCount);
            try
            {
                standardizer = new Standardizer(means, scales);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"The standardizer is invalid: {e.Message}", e);
            }
        }
        string[]? classNames = null;
        if (metadata.TryGetValue("class_names", out string? namesJson))
        {
            try
            {
                classNames = JsonSerializer.Deserialize(namesJson, SerializationContext.Default.StringArray);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"The class names are not a JSON array of strings: {e.Message}", e);
            }
            if (classNames is null || classNames.Length != score.ClassCount)
                throw new InvalidDataException($"The file names {classNames?.Length ?? 0} classes but the model has {score.ClassCount}.");
        }
        var model = metadata.ContainsKey("table_schema")
            ? new Classifier<T>(score, loss, ReadSchema(metadata, score, standardizer, classNames))
            : new Classifier<T>(score, loss, standardizer, classNames);
        // One row through the model now, so the code of the serving path is compiled while the model
        // loads, not during the first request (tens of milliseconds in a fresh process).
        Span<T> scores = score.ClassCount <= 256 ? stackalloc T[score.ClassCount] : new T[score.ClassCount];
        model.Scores(new T[score.InputCount], scores);
        return model;
    }

    /// <summary>The table schema the metadata holds, checked against the model it preprocesses for.</summary>
    private static TableSchema ReadSchema<T>(Dictionary<string, string> metadata, IScoreFunction<T> score, Standardizer? standardizer, string[]? classNames)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var schema = TableSchemaJson.Read(ParseObject(metadata, "table_schema"));
        if (schema.FeatureCount != score.InputCount)
            throw new InvalidDataException($"The table schema makes {schema.FeatureCount} features but the model takes {score.InputCount}.");
        if (standardizer is not null)
            throw new InvalidDataException("The file holds both a table schema and a standardizer; a model has one or the other.");
        if (classNames is null || !classNames.SequenceEqual(schema.ClassNames))
            throw new InvalidDataException("The table schema's classes differ from the model's class names.");
        return schema;
    }

    /// <summary>Checks the format name and returns its version (1 to <see cref="FormatVersion"/>).</summary>
    internal static int CheckFormat(Dictionary<string, string> metadata, string expected, string what)
    {
        if (!metadata.TryGetValue("format", out string? format) || format != expected)
            throw new InvalidDataException(
                $"This is not a NeuralBasics {what} file (its safetensors metadata has format '{format ?? "(none)"}', expected '{expected}').");
        string versionText = Required(metadata, "format_version");
        if (!int.TryParse(versionText, NumberStyles.None, CultureInfo.InvariantCulture, out int version) || version < 1)
            throw new InvalidDataException($"The format version '{versionText}' is not valid.");
        if (version > FormatVersion)
            throw new InvalidDataException(
                $"The file was written in format version {version} by a newer NeuralBasics; this version reads format versions up to {FormatVersion}. Update the package.");
        return version;
    }

    internal static string Required(Dictionary<string, string> metadata, string key) =>
        metadata.TryGetValue(key, out string? value) ? value : throw new InvalidDataException($"The metadata lacks '{key}'.");

    private static JsonObject ParseObject(Dictionary<string, string> metadata, string key)
    {
        return StrictJson.Parse(Required(metadata, key), $"'{key}'") as JsonObject ?? throw new InvalidDataException($"'{key}' is not a JSON object.");
    }

    internal static void ReadParameters<T>(IReadOnlyList<Parameter<T>> parameters, Dictionary<string, TensorEntry> tensors, string dtype)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var p in parameters)
            ReadInto(tensors, p.Name, p.Value.Span, [p.Value.Rows, p.Value.Columns], dtype);
    }

    internal static void ReadInto<T>(Dictionary<string, TensorEntry> tensors, string name, Span<T> destination, int[] shape, string dtype)
        where T : unmanaged
        => MemoryMarshal.Cast<byte, T>(CheckTensor(tensors, name, shape, dtype).Data).CopyTo(destination);

    /// <summary>The tensor <paramref name="name"/>, which must exist with <paramref name="dtype"/> and <paramref name="shape"/>.</summary>
    internal static TensorEntry CheckTensor(Dictionary<string, TensorEntry> tensors, string name, int[] shape, string dtype)
    {
        if (!tensors.TryGetValue(name, out var tensor))
            throw new InvalidDataException($"The file lacks the tensor '{name}'.");
        if (tensor.DType != dtype)
            throw new InvalidDataException($"Tensor '{name}' is {tensor.DType}, expected {dtype}.");
        if (!tensor.Shape.SequenceEqual(shape))
            throw new InvalidDataException(
                $"Tensor '{name}' has shape [{string.Join(", ", tensor.Shape)}] but the architecture needs [{string.Join(", ", shape)}].");
        return tensor;
    }

    /// <summary>Refuses NaN or ∞ in loaded values: a model holding one predicts class 0 for everything, silently.</summary>
    internal static void CheckFinite<T>(string name, ReadOnlySpan<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (System.Numerics.Tensors.TensorPrimitives.IsFiniteAll(values))
            return;
        int bad = 0;
        while (T.IsFinite(values[bad]))
            bad++;
        throw new InvalidDataException($"Tensor '{name}' holds {values[bad]} at element {bad}; a model's values must be finite.");
    }

    private static double[] ReadDoubles(Dictionary<string, TensorEntry> tensors, string name, int length)
    {
        var values = new double[length];
        ReadInto<double>(tensors, name, values, [length], "F64");
        return values;
    }

    internal static TensorEntry Tensor<T>(string name, Matrix<T> value)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new(name, DType<T>(), [value.Rows, value.Columns], Bytes<T>(value.Span));

    internal static byte[] Bytes<T>(ReadOnlySpan<T> values)
        where T : unmanaged
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("Model files are little-endian; big-endian processors are not supported.");
        return MemoryMarshal.AsBytes(values).ToArray();
    }

    internal static string DType<T>() =>
        typeof(T) == typeof(float) ? "F32"
        : typeof(T) == typeof(double) ? "F64"
        : throw new NotSupportedException($"Only float and double models can be saved, not {typeof(T).Name}.");
}
