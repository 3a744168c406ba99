using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NeuralBasics.Serialization;

/// <summary>One tensor of a safetensors file: its dtype ("F32", "F64", ...), shape and raw little-endian bytes.</summary>
internal sealed record TensorEntry(string Name, string DType, int[] Shape, byte[] Data);

/// <summary>
/// The safetensors layout (the format of Hugging Face's library, readable from PyTorch, numpy and
/// others): an 8-byte little-endian header length N, N bytes of UTF-8 JSON mapping each tensor name
/// to <c>{"dtype", "shape", "data_offsets": [begin, end]}</c> (offsets into the data that follows)
/// plus an optional <c>"__metadata__"</c> object of string values, then the raw data.
/// </summary>
internal static class SafeTensors
{
    /// <summary>Headers larger than this are refused as corrupt rather than allocated.</summary>
    private const long MaxHeaderLength = 100L * 1024 * 1024;

    public static int ElementSize(string dtype) => dtype switch
    {
        "F64" or "I64" or "U64" => 8,
        "F32" or "I32" or "U32" => 4,
        "F16" or "BF16" or "I16" or "U16" => 2,
        "I8" or "U8" or "BOOL" => 1,
        _ => throw new InvalidDataException($"Unknown safetensors dtype '{dtype}'."),
    };

    public static void Write(Stream output, IReadOnlyDictionary<string, string> metadata, IReadOnlyList<TensorEntry> tensors)
    {
        var header = new JsonObject();
        var meta = new JsonObject();
        foreach (var (key, value) in metadata)
            meta[key] = value;
        header["__metadata__"] = meta;
        long offset = 0;
        foreach (var tensor in tensors)
        {
            header[tensor.Name] = new JsonObject
            {
                ["dtype"] = tensor.DType,
                ["shape"] = new JsonArray([.. tensor.Shape.Select(d => (JsonNode)d)]),
                ["data_offsets"] = new JsonArray(offset, offset + tensor.Data.Length),
            };
            offset += tensor.Data.Length;
        }
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        // The data should start 8-byte aligned: pad the header with spaces, as the reference writer does.
        int padding = (8 - json.Length % 8) % 8;
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)(json.Length + padding));
        output.Write(length);
        output.Write(json);
        for (int i = 0; i < padding; i++)
            output.WriteByte((byte)' ');
        foreach (var tensor in tensors)
            output.Write(tensor.Data);
    }

    /// <summary>
    /// Parses a whole file; every inconsistency is an <see cref="InvalidDataException"/> naming the
    /// tensor or field. The header is validated whole before any tensor's data is copied: no
    /// duplicate names or metadata keys, known dtypes, shapes whose element and byte counts are
    /// computed with overflow checks and fit in one array, and data ranges that, sorted, tile the
    /// data region exactly (no overlap, no gap, nothing past the end).
    /// </summary>
    public static (Dictionary<string, string> Metadata, Dictionary<string, TensorEntry> Tensors) Read(byte[] file)
    {
        if (file.Length < 8)
            throw new InvalidDataException($"The file is truncated: {file.Length} bytes, too short for the 8-byte safetensors header length.");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength > MaxHeaderLength || (long)headerLength > file.Length - 8)
            throw new InvalidDataException(
                $"The header length {headerLength} does not fit the file of {file.Length} bytes: the file is truncated or not a safetensors file.");
        if (!System.Text.Unicode.Utf8.IsValid(file.AsSpan(8, (int)headerLength)))
            throw new InvalidDataException("The safetensors header is not valid UTF-8.");
        var header = StrictJson.ParseObject(file.AsSpan(8, (int)headerLength), "The safetensors header");

        long dataStart = 8 + (long)headerLength;
        long dataLength = file.Length - dataStart;
        var metadata = new Dictionary<string, string>();
        var layout = new List<(string Name, string DType, int[] Shape, long Begin, long End)>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                if (node is not JsonObject meta)
                    throw new InvalidDataException("The safetensors __metadata__ is not a JSON object.");
                foreach (var (key, value) in meta)
                {
                    try
                    {
                        metadata[key] = value is JsonValue v && v.TryGetValue(out string? s) ? s
                            : throw new InvalidDataException($"Metadata entry '{key}' is not a string.");
                    }
                    catch (InvalidOperationException e)
                    {
                        throw new InvalidDataException($"Metadata entry '{key}' is not a valid string: {e.Message}", e);
                    }
                }
                continue;
            }
            try
            {
                layout.Add(Describe(name, node));
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException or ArgumentException or JsonException)
            {
                throw new InvalidDataException($"Tensor '{name}' has a malformed header entry.", e);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"Tensor '{name}': {e.Message}.", e);
            }
        }

        // The ranges, sorted, must tile [0, dataLength): each begins where the one before ends.
        layout.Sort((x, y) => x.Begin != y.Begin ? x.Begin.CompareTo(y.Begin) : x.End.CompareTo(y.End));
        long covered = 0;
        string? previous = null;
        foreach (var (name, _, _, begin, end) in layout)
        {
            if (begin < covered)
                throw new InvalidDataException(
                    $"Tensor '{name}' (data bytes {begin} to {end}) overlaps tensor '{previous}', which ends at byte {covered}.");
            if (begin > covered)
                throw new InvalidDataException(
                    $"Data bytes {covered} to {begin} belong to no tensor (before tensor '{name}'): the file is damaged.");
            if (end > dataLength)
                throw new InvalidDataException(
                    $"Tensor '{name}': its data ends at byte {end} but only {dataLength} data bytes follow the header (truncated).");
            covered = end;
            previous = name;
        }
        if (covered != dataLength)
            throw new InvalidDataException($"The tensors cover {covered} data bytes but {dataLength} follow the header: the file is damaged.");

        var tensors = new Dictionary<string, TensorEntry>(layout.Count);
        foreach (var (name, dtype, shape, begin, end) in layout)
            tensors.Add(name, new TensorEntry(name, dtype, shape, file.AsSpan((int)(dataStart + begin), (int)(end - begin)).ToArray()));
        return (metadata, tensors);
    }

    /// <summary>One tensor's header entry, checked: dtype, shape (element and byte counts with overflow checks) and data offsets.</summary>
    private static (string Name, string DType, int[] Shape, long Begin, long End) Describe(string name, JsonNode? node)
    {
        var entry = node as JsonObject ?? throw new InvalidDataException("its entry is not a JSON object");
        string dtype = entry["dtype"]!.GetValue<string>();
        int elementSize = ElementSize(dtype);
        var shapeNodes = entry["shape"]!.AsArray();
        if (shapeNodes.Count > 8)
            throw new InvalidDataException($"a shape of {shapeNodes.Count} dimensions");
        int[] shape = [.. shapeNodes.Select(d => d!.GetValue<int>())];
        long elements = 1;
        foreach (int d in shape)
        {
            if (d < 0)
                throw new InvalidDataException($"a negative dimension ({d})");
            // Bounded by the largest array, so the product of the dimensions cannot overflow a long.
            elements *= d;
            if (elements > Array.MaxLength)
                throw new InvalidDataException($"shape [{string.Join(", ", shape)}] holds more elements than an array can ({Array.MaxLength})");
        }
        var offsets = entry["data_offsets"]!.AsArray();
        if (offsets.Count != 2)
            throw new InvalidDataException($"data_offsets has {offsets.Count} numbers, not 2");
        long begin = offsets[0]!.GetValue<long>(), end = offsets[1]!.GetValue<long>();
        long bytes = elements * elementSize;
        if (begin < 0 || end < begin || end - begin != bytes)
            throw new InvalidDataException($"offsets [{begin}, {end}] do not hold {string.Join(" x ", shape)} {dtype} values ({bytes} bytes)");
        return (name, dtype, shape, begin, end);
    }
}

/// <summary>JSON parsing for files from outside: duplicate property names are errors, not silently merged or thrown as <see cref="ArgumentException"/>.</summary>
internal static class StrictJson
{
    private static readonly JsonDocumentOptions s_options = new() { MaxDepth = 64 };

    /// <summary>Parses <paramref name="utf8"/> as a JSON object; <paramref name="what"/> names it in the error.</summary>
    public static JsonObject ParseObject(ReadOnlySpan<byte> utf8, string what)
    {
        try
        {
            RefuseRepeatedKeys(utf8);
            return JsonNode.Parse(utf8, documentOptions: s_options) as JsonObject ?? throw new InvalidDataException($"{what} is not a JSON object.");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            // InvalidOperationException: unescaping a property name with a lone UTF-16 surrogate
            // escape ("\ud800") throws that (found by AFL++).
            throw new InvalidDataException($"{what} is not valid JSON (or repeats a key): {e.Message}", e);
        }
    }

    /// <inheritdoc cref="ParseObject(ReadOnlySpan{byte}, string)"/>
    public static JsonNode? Parse(string json, string what)
    {
        try
        {
            byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(json);
            RefuseRepeatedKeys(utf8);
            return JsonNode.Parse(utf8, documentOptions: s_options);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            throw new InvalidDataException($"{what} is not valid JSON (or repeats a key): {e.Message}", e);
        }
    }

    /// <summary>
    /// Refuses an object that repeats a property name, at any depth. Done here rather than with
    /// System.Text.Json's own check, whose set of names is seeded from the cryptographic random
    /// generator, which on Linux loads OpenSSL: reading a file must not need it.
    /// </summary>
    private static void RefuseRepeatedKeys(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 64 });
        var names = new Stack<HashSet<string>>();
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    names.Push(new HashSet<string>(StringComparer.Ordinal));
                    break;
                case JsonTokenType.EndObject:
                    names.Pop();
                    break;
                case JsonTokenType.PropertyName:
                    string name = reader.GetString()!;
                    if (!names.Peek().Add(name))
                        throw new JsonException($"The property '{name}' appears twice in one object.");
                    break;
            }
        }
    }
}
