using NeuralBasics.Data;

namespace NeuralBasics.Tests.Data;

public sealed class IdxTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("neuralbasics-idx-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RoundTrips_LabelsAndImages(bool gzip)
    {
        var labels = new IdxData([5], [3, 1, 4, 1, 5]);
        var images = new IdxData([2, 3, 4], Enumerable.Range(0, 24).Select(i => (byte)(i * 10)).ToArray());
        Idx.Write(PathOf("labels"), labels, gzip);
        Idx.Write(PathOf("images"), images, gzip);

        var readLabels = Idx.Read(PathOf("labels"));
        var readImages = Idx.Read(PathOf("images"));
        Assert.Equal(labels.Dimensions, readLabels.Dimensions);
        Assert.Equal(labels.Values, readLabels.Values);
        Assert.Equal(images.Dimensions, readImages.Dimensions);
        Assert.Equal(images.Values, readImages.Values);
    }

    [Fact]
    public void ReadsAHandWrittenRawFile()
    {
        // Magic 00 00 08 01, one dimension of 3 (big-endian), values 7 8 9.
        File.WriteAllBytes(PathOf("raw"), [0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]);
        var data = Idx.Read(PathOf("raw"));
        Assert.Equal(new[] { 3 }, data.Dimensions);
        Assert.Equal(new byte[] { 7, 8, 9 }, data.Values);
    }

    private InvalidDataException ReadBroken(byte[] bytes, bool gzip = false)
    {
        string path = PathOf("broken");
        if (gzip)
        {
            using var file = File.Create(path);
            using var zip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest);
            zip.Write(bytes);
        }
        else
        {
            File.WriteAllBytes(path, bytes);
        }
        return Assert.Throws<InvalidDataException>(() => Idx.Read(path));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TruncatedFile_IsNamed(bool gzip)
    {
        var e = ReadBroken([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3], gzip);
        Assert.Contains("truncated", e.Message);
        Assert.Contains("2 x 2 x 2", e.Message);
        e = ReadBroken([0, 0, 8, 3, 0, 0, 0, 2], gzip);
        Assert.Contains("truncated", e.Message);
        e = ReadBroken([0, 0], gzip);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void TruncatedGzipStream_IsNamed()
    {
        Idx.Write(PathOf("whole"), new IdxData([100], new byte[100]), gzip: true);
        var bytes = File.ReadAllBytes(PathOf("whole"));
        File.WriteAllBytes(PathOf("cut"), bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => Idx.Read(PathOf("cut")));
        Assert.Contains("cut", e.Message);
    }

    [Fact]
    public void WrongMagicNumber_IsNamed()
    {
        var e = ReadBroken([1, 0, 8, 1, 0, 0, 0, 1, 5]);
        Assert.Contains("magic", e.Message);
        e = ReadBroken([0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0]);
        Assert.Contains("magic", e.Message);
        Assert.Contains("float", e.Message);
        e = ReadBroken([0, 0, 8, 0]);
        Assert.Contains("0 dimensions", e.Message);
    }

    [Fact]
    public void HeaderDimensionsNotMatchingTheFileSize_AreNamed()
    {
        var e = ReadBroken([0, 0, 8, 1, 0, 0, 0, 2, 1, 2, 3, 4]);
        Assert.Contains("do not match the file size", e.Message);
        Assert.Contains("broken", e.Message); // the path is named too
    }

    [Fact]
    public void AHugeHeaderInATinyFile_IsRefusedBeforeAllocating()
    {
        // 2 x 30000 x 30000 = 1.8e9 values declared by a file of a few dozen bytes, raw and gzip.
        byte[] header = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0x75, 0x30, 0, 0, 0x75, 0x30, 1, 2, 3];
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Contains("truncated", ReadBroken(header).Message);
        var e = ReadBroken(header, gzip: true);
        Assert.Contains("more than this", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 10_000_000, "the loader allocated for the declared size");
    }

    [Fact]
    public void Write_RefusesValuesThatDoNotFillTheDimensions()
    {
        Assert.Throws<ArgumentException>(() => Idx.Write(PathOf("x"), new IdxData([2, 2], new byte[3]), gzip: false));
    }

    /// <summary>A stream that cannot seek, as a network or pipe gives.</summary>
    private sealed class ForwardOnly(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static long Allocated(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    /// <summary>
    /// A stream that cannot seek reads what really arrives: an 11-byte stream declaring 1.4 billion
    /// values is refused after allocating a few KiB, and a well-formed one reads as from a file.
    /// </summary>
    [Fact]
    public void ANonSeekableStream_IsBoundedByWhatArrives()
    {
        // 00 00 08 03, dimensions 37,000 x 200 x 200 (1.48e9 values), then 3 bytes of data.
        byte[] bomb = [0, 0, 8, 3, 0, 0, 0x90, 0x88, 0, 0, 0, 200, 0, 0, 0, 200, 1, 2, 3];
        long allocated = Allocated(() => Assert.Throws<InvalidDataException>(() => Idx.Read(new ForwardOnly(bomb))));
        Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated refusing a {bomb.Length}-byte stream");

        var images = new IdxData([3, 50, 40], [.. Enumerable.Range(0, 6000).Select(i => (byte)(i * 7))]);
        Idx.Write(PathOf("images"), images, gzip: false);
        var read = Idx.Read(new ForwardOnly(File.ReadAllBytes(PathOf("images"))));
        Assert.Equal(images.Dimensions, read.Dimensions);
        Assert.Equal(images.Values, read.Values);
        Assert.Throws<InvalidDataException>(() => Idx.Read(new ForwardOnly([.. File.ReadAllBytes(PathOf("images")), 9])));
    }

    /// <summary>
    /// A gzip file whose header declares far more images than its data holds (here 600,000 declared,
    /// 600 present, a 460 KiB file) is refused by the Fashion-MNIST loader before it allocates the
    /// feature matrix (3.8 GB in double), in float and in double; a file with zero images is invalid data.
    /// </summary>
    [Fact]
    public void AGzipHeaderPromisingMoreImagesThanItHolds_IsRefusedBeforeAllocating()
    {
        string folder = Directory.CreateDirectory(PathOf("fashion")).FullName;
        void WriteSet(int declared, int present)
        {
            var header = new byte[16];
            header[2] = 8;
            header[3] = 3;
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), declared);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), 28);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(12), 28);
            foreach (string prefix in new[] { "train", "t10k" })
            {
                using (var file = File.Create(Path.Combine(folder, $"{prefix}-images-idx3-ubyte.gz")))
                using (var zip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Optimal))
                {
                    zip.Write(header);
                    // Random pixels do not compress: the file is large enough (about 460 KiB for
                    // 600 images) that deflate's 1032:1 bound cannot rule out 600,000 images.
                    var pixels = new byte[present * 784];
                    new Random(present).NextBytes(pixels);
                    zip.Write(pixels);
                }
                Idx.Write(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte"), new IdxData([declared], new byte[declared]), gzip: false);
            }
        }

        WriteSet(declared: 600_000, present: 600);
        long allocated = Allocated(() => Assert.Throws<InvalidDataException>(() => FashionMnist.Load<double>(folder)));
        Assert.True(allocated < 8L << 20, $"{allocated} bytes allocated refusing the file");
        allocated = Allocated(() => Assert.Throws<InvalidDataException>(() => FashionMnist.Load<float>(folder)));
        Assert.True(allocated < 8L << 20, $"{allocated} bytes allocated refusing the file");

        WriteSet(declared: 0, present: 0);
        Assert.Contains("no images", Assert.Throws<InvalidDataException>(() => FashionMnist.Load<float>(folder)).Message);

        WriteSet(declared: 10, present: 10);
        Assert.Equal(10, FashionMnist.Load<float>(folder).Train.Count);
    }
}
