using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Text;

namespace NeuralBasics.Serialization;

/// <summary>
/// A digest of everything a model or checkpoint file says, kept in its metadata as
/// <c>"checksum": "xxh128:HEX"</c> (format version 3; version 2 files carry <c>"sha256:HEX"</c>):
/// every other metadata entry, every tensor's name, dtype and shape, and every data byte.
/// Safetensors itself has no checksum, so a flipped bit in the weights used to load as a different
/// model without a word; now it is refused on load. Both digests are computed in managed code
/// (System.IO.Hashing's XXH128, and <see cref="Sha256"/> for version 2), so saving and loading need
/// no OpenSSL. The checksum detects damage (a flipped bit, a truncated copy, a stray edit); it is no
/// signature: anyone who changes a file on purpose can recompute it. Files written before the
/// checksum existed (format version 1, without it) still load; from version 2 it is required.
/// </summary>
internal static class Integrity
{
    internal const string Key = "checksum";
    private const string Current = "xxh128:";
    private const string Version2 = "sha256:";

    /// <summary>Adds the checksum of <paramref name="metadata"/> and <paramref name="tensors"/> to the metadata.</summary>
    public static void Stamp(Dictionary<string, string> metadata, IReadOnlyList<TensorEntry> tensors)
    {
        metadata.Remove(Key);
        metadata[Key] = Current + Convert.ToHexStringLower(Digest(metadata, tensors, new XxHash128()));
    }

    /// <summary>
    /// Checks the checksum; <paramref name="required"/> (format version 2 on) means a file without
    /// one is refused too (a damaged key name would otherwise switch the check off).
    /// </summary>
    public static void Verify(Dictionary<string, string> metadata, IReadOnlyCollection<TensorEntry> tensors, bool required)
    {
        if (!metadata.TryGetValue(Key, out string? stamped))
        {
            if (required)
                throw new InvalidDataException("The file lacks its checksum, which its format version requires: it is damaged.");
            return;
        }
        (NonCryptographicHashAlgorithm hash, int length) = stamped.StartsWith(Current, StringComparison.Ordinal) ? (new XxHash128(), Current.Length + 32)
            : stamped.StartsWith(Version2, StringComparison.Ordinal) ? ((NonCryptographicHashAlgorithm)new Sha256(), Version2.Length + 64)
            : throw new InvalidDataException($"The checksum '{stamped}' is neither an XXH128 nor a SHA-256 checksum.");
        if (stamped.Length != length)
            throw new InvalidDataException($"The checksum '{stamped}' has the wrong length.");
        byte[] actual = Digest(metadata, tensors, hash);
        if (!Convert.ToHexStringLower(actual).Equals(stamped[(stamped.IndexOf(':') + 1)..], StringComparison.Ordinal))
            throw new InvalidDataException(
                "The file's contents do not match its checksum: it was changed or damaged after it was written.");
    }

    /// <summary>The digest of the metadata (but the checksum) and the tensors, in a canonical order, every text and array length-prefixed.</summary>
    private static byte[] Digest(Dictionary<string, string> metadata, IEnumerable<TensorEntry> tensors, NonCryptographicHashAlgorithm hash)
    {
        var number = new byte[8];
        void Add(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(number, value);
            hash.Append(number);
        }
        void AddText(string text)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            Add(bytes.Length);
            hash.Append(bytes);
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
            hash.Append(tensor.Data);
        }
        return hash.GetHashAndReset();
    }
}
