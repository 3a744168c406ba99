using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace NeuralBasics.Serialization;

/// <summary>
/// A SHA-256 digest of everything a model or checkpoint file says, kept in its metadata as
/// <c>"checksum": "sha256:HEX"</c>: every other metadata entry, every tensor's name, dtype and
/// shape, and every data byte. Safetensors itself has no checksum, so a flipped bit in the weights
/// used to load as a different model without a word; now it is refused on load. Files written
/// before the checksum existed (format version 1, without it) still load; from version 2 it is required.
/// </summary>
internal static class Integrity
{
    internal const string Key = "checksum";
    private const string Prefix = "sha256:";

    /// <summary>Adds the checksum of <paramref name="metadata"/> and <paramref name="tensors"/> to the metadata.</summary>
    public static void Stamp(Dictionary<string, string> metadata, IReadOnlyList<TensorEntry> tensors)
    {
        metadata.Remove(Key);
        metadata[Key] = Prefix + Convert.ToHexStringLower(Digest(metadata, tensors));
    }

    /// <summary>
    /// Checks the checksum; <paramref name="required"/> (format version 2 on) means a file without
    /// one is refused too (a damaged key name would otherwise switch the check off).
    /// </summary>
    /// <exception cref="InvalidDataException">It is missing though required, does not match, or is not a SHA-256 checksum.</exception>
    public static void Verify(Dictionary<string, string> metadata, IReadOnlyCollection<TensorEntry> tensors, bool required)
    {
        if (!metadata.TryGetValue(Key, out string? stamped))
        {
            if (required)
                throw new InvalidDataException("The file lacks its checksum, which its format version requires: it is damaged.");
            return;
        }
        if (!stamped.StartsWith(Prefix, StringComparison.Ordinal) || stamped.Length != Prefix.Length + 64)
            throw new InvalidDataException($"The checksum '{stamped}' is not a SHA-256 checksum.");
        byte[] actual = Digest(metadata, tensors);
        if (!Convert.ToHexStringLower(actual).Equals(stamped[Prefix.Length..], StringComparison.Ordinal))
            throw new InvalidDataException(
                "The file's contents do not match its checksum: it was changed or damaged after it was written.");
    }

    /// <summary>
    /// SHA-256 over the metadata (sorted by key, the checksum left out), then each tensor sorted by
    /// name: its name, dtype, shape and data. Every string and array is length-prefixed, so no two
    /// different files hash the same bytes.
    /// </summary>
    private static byte[] Digest(Dictionary<string, string> metadata, IEnumerable<TensorEntry> tensors)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var number = new byte[8];
        void Add(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(number, value);
            hash.AppendData(number);
        }
        void AddText(string text)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            Add(bytes.Length);
            hash.AppendData(bytes);
        }

        var keys = metadata.Keys.Where(k => k != Key).Order(StringComparer.Ordinal).ToList();
        Add(keys.Count);
        foreach (string key in keys)
        {
            AddText(key);
            AddText(metadata[key]);
        }
        var sorted = tensors.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        Add(sorted.Count);
        foreach (var tensor in sorted)
        {
            AddText(tensor.Name);
            AddText(tensor.DType);
            AddText(string.Join(',', tensor.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture))));
            Add(tensor.Data.Length);
            hash.AppendData(tensor.Data);
        }
        return hash.GetHashAndReset();
    }
}
