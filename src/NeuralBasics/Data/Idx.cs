using System.Buffers.Binary;
using System.IO.Compression;

namespace NeuralBasics.Data;

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

    /// <summary>Deflate's largest expansion (about 1032:1), which bounds what a gzip file can hold.</summary>
    private const long MaxDeflateRatio = 1032;

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
        int[] dimensions = ReadValues(stream, (shape, fill) =>
        {
            var all = new byte[shape.Aggregate(1L, (product, d) => product * d)];
            fill(all);
            return all;
        }, out byte[] values);
        return new IdxData(dimensions, values);
    }

    /// <summary>
    /// Reads the header, then hands the dimensions and a function that fills a buffer with the
    /// next values to <paramref name="consume"/>: every value is read straight from the
    /// (decompressing) stream, and no copy of the whole file is held in memory. Nothing proportional
    /// to the declared size is allocated before the data is known to be there: a raw seekable file's
    /// header is checked against its length; a gzip file is first decompressed once without keeping
    /// anything, to count its values, then read again; a raw stream that cannot seek is read in
    /// chunks as its bytes arrive.
    /// </summary>
    internal static int[] ReadValues<TResult>(Stream stream, Func<int[], Action<Span<byte>>, TResult> consume, out TResult result)
    {
        long origin = stream.CanSeek ? stream.Position : 0;
        var start = new byte[2];
        int first = ReadUpTo(stream, start);
        if (first == 2 && start[0] == 0x1f && start[1] == 0x8b)
        {
            if (!stream.CanSeek)
                throw new InvalidDataException("A gzip IDX stream must be seekable.");
            long compressed = stream.Length - origin;
            // First pass: the header's counts must match what the gzip data really holds. (Deflate
            // expands at most about 1032:1, so a header declaring more is refused at once.)
            FromGzip(stream, origin, compressed * MaxDeflateRatio + 1024, Discard, out _);
            return FromGzip(stream, origin, maximum: null, consume, out result);
        }
        if (stream.CanSeek)
            return ReadHeaderAndValues(stream, start.AsSpan(0, first), stream.Length - origin, null, consume, out result);

        // A raw stream that cannot seek declares its size only in its header: read what really
        // arrives, in chunks, and hand it on once it is all there.
        var chunks = new List<byte[]>();
        var dimensions = ReadHeaderAndValues(stream, start.AsSpan(0, first), null, null, Collect(chunks), out _);
        int chunk = 0, offset = 0;
        result = consume(dimensions, destination =>
        {
            while (!destination.IsEmpty)
            {
                int n = Math.Min(destination.Length, chunks[chunk].Length - offset);
                chunks[chunk].AsSpan(offset, n).CopyTo(destination);
                destination = destination[n..];
                offset += n;
                if (offset == chunks[chunk].Length)
                {
                    chunk++;
                    offset = 0;
                }
            }
        });
        return dimensions;
    }

    private static int[] FromGzip<TResult>(Stream stream, long origin, long? maximum, Func<int[], Action<Span<byte>>, TResult> consume, out TResult result)
    {
        stream.Position = origin;
        using var gzip = new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true);
        try
        {
            return ReadHeaderAndValues(gzip, default, null, maximum, consume, out result);
        }
        catch (Exception e) when (e is IOException or EndOfStreamException
            or InvalidDataException { InnerException: null, Source: "System.IO.Compression" })
        {
            throw new InvalidDataException($"The gzip data is damaged or truncated: {e.Message}", e);
        }
    }

    /// <summary>Reads every value into a 64 KiB buffer and forgets it: the counting pass.</summary>
    private static bool Discard(int[] shape, Action<Span<byte>> fill)
    {
        long total = shape.Aggregate(1L, (product, d) => product * d);
        var buffer = new byte[(int)Math.Min(64 * 1024, Math.Max(1, total))];
        for (long done = 0; done < total; done += buffer.Length)
            fill(buffer.AsSpan(0, (int)Math.Min(buffer.Length, total - done)));
        return true;
    }

    /// <summary>
    /// Reads every value into chunks, each allocated only once the previous one is full and twice
    /// its size (4 KiB up to 1 MiB): what is allocated stays within twice what has arrived.
    /// </summary>
    private static Func<int[], Action<Span<byte>>, bool> Collect(List<byte[]> chunks) => (shape, fill) =>
    {
        long total = shape.Aggregate(1L, (product, d) => product * d);
        int size = 4096;
        for (long done = 0; done < total;)
        {
            var chunk = new byte[(int)Math.Min(size, total - done)];
            fill(chunk);
            chunks.Add(chunk);
            done += chunk.Length;
            size = Math.Min(size * 2, 1 << 20);
        }
        return true;
    };

    private static int[] ReadHeaderAndValues<TResult>(Stream input, ReadOnlySpan<byte> alreadyRead, long? available, long? maximum,
        Func<int[], Action<Span<byte>>, TResult> consume, out TResult result)
    {
        Span<byte> header = stackalloc byte[4];
        alreadyRead.CopyTo(header);
        int got = alreadyRead.Length + ReadUpTo(input, header[alreadyRead.Length..]);
        if (got < 4)
            throw new InvalidDataException($"The file is truncated: {got} bytes, too short for the 4-byte IDX magic number.");
        if (header[0] != 0 || header[1] != 0)
            throw new InvalidDataException(
                $"Wrong magic number 0x{header[0]:X2}{header[1]:X2}{header[2]:X2}{header[3]:X2}: an IDX file starts with two zero bytes.");
        if (header[2] != UnsignedByte)
            throw new InvalidDataException(
                $"Wrong magic number: value type 0x{header[2]:X2} ({TypeName(header[2])}) is not supported; only unsigned bytes (0x08) are.");
        int rank = header[3];
        if (rank < 1)
            throw new InvalidDataException("Wrong magic number: the file declares 0 dimensions.");
        Span<byte> dimensionBytes = stackalloc byte[4 * rank];
        int dimensionsRead = ReadUpTo(input, dimensionBytes);
        if (dimensionsRead < dimensionBytes.Length)
            throw new InvalidDataException(
                $"The file is truncated: its header declares {rank} dimensions ({4 + 4 * rank} header bytes) but the file ends after {4 + dimensionsRead}.");
        var dimensions = new int[rank];
        long count = 1;
        for (int d = 0; d < rank; d++)
        {
            dimensions[d] = BinaryPrimitives.ReadInt32BigEndian(dimensionBytes.Slice(4 * d, 4));
            if (dimensions[d] < 0)
                throw new InvalidDataException($"Dimension {d} is negative ({dimensions[d]}).");
            count *= dimensions[d];
            if (count > Array.MaxLength)
                throw new InvalidDataException($"The dimensions {string.Join(" x ", dimensions[..(d + 1)])} hold more values than an array can.");
        }
        string shape = string.Join(" x ", dimensions);
        if (maximum is { } most && count > most)
            throw new InvalidDataException(
                $"The header declares {shape} = {count} values, more than this {most / MaxDeflateRatio}-byte gzip file can hold: it is damaged.");
        if (available is { } length)
        {
            long data = length - 4 - 4 * rank;
            if (data < count)
                throw new InvalidDataException($"The file is truncated: its header declares {shape} = {count} values but only {data} follow.");
            if (data > count)
                throw new InvalidDataException(
                    $"The header's dimensions {shape} = {count} values do not match the file size: {data} value bytes follow the header.");
        }

        result = consume(dimensions, destination =>
        {
            int read = ReadUpTo(input, destination);
            if (read < destination.Length)
                throw new InvalidDataException($"The file is truncated: its header declares {shape} = {count} values but the data ends early.");
        });
        if (available is null && input.ReadByte() >= 0)
            throw new InvalidDataException($"The header's dimensions {shape} = {count} values do not match the file size: more data follows.");
        return dimensions;
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the stream ends; returns the bytes read.</summary>
    private static int ReadUpTo(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = stream.Read(buffer[total..]);
            if (read == 0)
                break;
            total += read;
        }
        return total;
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
