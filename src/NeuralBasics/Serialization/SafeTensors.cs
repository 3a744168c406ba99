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

    /// <summary>Parses a whole file; every inconsistency is an <see cref="InvalidDataException"/>.</summary>
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
        JsonObject header;
        try
        {
            header = JsonNode.Parse(file.AsSpan(8, (int)headerLength)) as JsonObject
                ?? throw new InvalidDataException("The safetensors header is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The safetensors header is not valid JSON: {e.Message}", e);
        }

        long dataStart = 8 + (long)headerLength;
        long dataLength = file.Length - dataStart;
        var metadata = new Dictionary<string, string>();
        var tensors = new Dictionary<string, TensorEntry>();
        long end = 0;
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
                var entry = node as JsonObject ?? throw new InvalidDataException("not an object");
                string dtype = entry["dtype"]!.GetValue<string>();
                int[] shape = [.. entry["shape"]!.AsArray().Select(d => d!.GetValue<int>())];
                var offsets = entry["data_offsets"]!.AsArray();
                long begin = offsets[0]!.GetValue<long>(), stop = offsets[1]!.GetValue<long>();
                if (shape.Any(d => d < 0))
                    throw new InvalidDataException("a negative dimension");
                long expected = shape.Aggregate(1L, (p, d) => p * d) * ElementSize(dtype);
                if (begin < 0 || stop < begin || stop - begin != expected)
                    throw new InvalidDataException($"offsets [{begin}, {stop}] do not hold {string.Join(" x ", shape)} {dtype} values");
                if (stop > dataLength)
                    throw new InvalidDataException($"its data ends at byte {stop} but only {dataLength} data bytes follow the header (truncated)");
                end = Math.Max(end, stop);
                tensors[name] = new TensorEntry(name, dtype, shape, file.AsSpan((int)(dataStart + begin), (int)(stop - begin)).ToArray());
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException or ArgumentException or JsonException)
            {
                throw new InvalidDataException($"Tensor '{name}' has a malformed header entry.", e);
            }
            catch (InvalidDataException e) when (!e.Message.StartsWith("Tensor", StringComparison.Ordinal))
            {
                throw new InvalidDataException($"Tensor '{name}': {e.Message}.", e);
            }
        }
        if (end != dataLength)
            throw new InvalidDataException($"The tensors cover {end} data bytes but {dataLength} follow the header: the file is damaged.");
        return (metadata, tensors);
    }
}
