using System.Buffers.Binary;
using System.IO.Compression;

namespace NeuralBasics.Data;

/// <summary>The contents of an IDX file of unsigned bytes: its dimensions and its values in row-major order.</summary>
/// <param name="Dimensions">The sizes, outermost first (for images: count, rows, columns).</param>
/// <param name="Values">The values, row-major; as many as the product of the dimensions.</param>
public sealed record IdxData(int[] Dimensions, byte[] Values);

/// <summary>
/// Reads and writes the IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed (detected by
/// the gzip magic bytes, whatever the file name).
/// </summary>
/// <remarks>
/// Layout: two zero bytes; a type byte (0x08 = unsigned byte, the only type these data sets use and
/// the only one read here); the number of dimensions; each dimension as a big-endian 32-bit
/// integer; then the values, row-major. A file that breaks any of this, stops early or carries
/// more values than its header declares throws <see cref="InvalidDataException"/> naming the problem.
/// </remarks>
public static class Idx
{
    private const byte UnsignedByte = 0x08;

    /// <summary>Reads the IDX file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a well-formed IDX file of unsigned bytes.</exception>
    public static IdxData Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = File.OpenRead(path);
        try
        {
            return Read(file);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Reads an IDX file from <paramref name="stream"/>, raw or gzip.</summary>
    /// <exception cref="InvalidDataException">The data is not a well-formed IDX file of unsigned bytes.</exception>
    public static IdxData Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] bytes = ReadAll(stream);
        if (bytes.Length >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b)
        {
            using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
            try
            {
                bytes = ReadAll(gzip);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"The gzip data is damaged or truncated: {e.Message}", e);
            }
            catch (EndOfStreamException e)
            {
                throw new InvalidDataException("The gzip data is truncated.", e);
            }
        }
        return Parse(bytes);
    }

    private static IdxData Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 4)
            throw new InvalidDataException($"The file is truncated: {bytes.Length} bytes, too short for the 4-byte IDX magic number.");
        if (bytes[0] != 0 || bytes[1] != 0)
            throw new InvalidDataException(
                $"Wrong magic number 0x{bytes[0]:X2}{bytes[1]:X2}{bytes[2]:X2}{bytes[3]:X2}: an IDX file starts with two zero bytes.");
        if (bytes[2] != UnsignedByte)
            throw new InvalidDataException(
                $"Wrong magic number: value type 0x{bytes[2]:X2} ({TypeName(bytes[2])}) is not supported; only unsigned bytes (0x08) are.");
        int rank = bytes[3];
        if (rank < 1)
            throw new InvalidDataException("Wrong magic number: the file declares 0 dimensions.");
        int headerLength = 4 + 4 * rank;
        if (bytes.Length < headerLength)
            throw new InvalidDataException(
                $"The file is truncated: its header declares {rank} dimensions ({headerLength} header bytes) but the file has {bytes.Length} bytes.");

        var dimensions = new int[rank];
        long count = 1;
        for (int d = 0; d < rank; d++)
        {
            dimensions[d] = BinaryPrimitives.ReadInt32BigEndian(bytes.Slice(4 + 4 * d, 4));
            if (dimensions[d] < 0)
                throw new InvalidDataException($"Dimension {d} is negative ({dimensions[d]}).");
            count *= dimensions[d];
            if (count > Array.MaxLength)
                throw new InvalidDataException($"The dimensions {string.Join(" x ", dimensions[..(d + 1)])} hold more values than an array can.");
        }

        long data = bytes.Length - headerLength;
        string shape = string.Join(" x ", dimensions);
        if (data < count)
            throw new InvalidDataException($"The file is truncated: its header declares {shape} = {count} values but only {data} follow.");
        if (data > count)
            throw new InvalidDataException(
                $"The header's dimensions {shape} = {count} values do not match the file size: {data} value bytes follow the header.");
        return new IdxData(dimensions, bytes[headerLength..].ToArray());
    }

    /// <summary>Writes <paramref name="data"/> as an IDX file of unsigned bytes, gzip-compressed when <paramref name="gzip"/>.</summary>
    /// <exception cref="ArgumentException">The values do not fill the dimensions exactly, or there are no or too many dimensions.</exception>
    public static void Write(string path, IdxData data, bool gzip)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Dimensions.Length is < 1 or > 255)
            throw new ArgumentException($"An IDX file has 1 to 255 dimensions, not {data.Dimensions.Length}.", nameof(data));
        long count = data.Dimensions.Aggregate(1L, (product, d) => d >= 0 ? product * d
            : throw new ArgumentException($"Dimension {d} is negative.", nameof(data)));
        if (count != data.Values.Length)
            throw new ArgumentException(
                $"The dimensions {string.Join(" x ", data.Dimensions)} need {count} values but there are {data.Values.Length}.", nameof(data));

        using var file = File.Create(path);
        using Stream output = gzip ? new GZipStream(file, CompressionLevel.Optimal) : file;
        Span<byte> header = stackalloc byte[4];
        header[0] = 0;
        header[1] = 0;
        header[2] = UnsignedByte;
        header[3] = (byte)data.Dimensions.Length;
        output.Write(header);
        foreach (int d in data.Dimensions)
        {
            BinaryPrimitives.WriteInt32BigEndian(header, d);
            output.Write(header);
        }
        output.Write(data.Values);
    }

    private static byte[] ReadAll(Stream stream)
    {
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }

    private static string TypeName(byte type) => type switch
    {
        0x09 => "signed byte",
        0x0B => "16-bit integer",
        0x0C => "32-bit integer",
        0x0D => "float",
        0x0E => "double",
        _ => "unknown",
    };
}
