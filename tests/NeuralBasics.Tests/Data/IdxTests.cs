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
}
