using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Kernels;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Models;
using NeuralBasics.Scoring;

namespace NeuralBasics.Tests.Serving;

/// <summary>Models through streams, one sample at a time through spans, and data from records.</summary>
[Collection(AllocationCollection.Name)]
public class StreamAndSpanTests
{
    private static Classifier<float> Mlp()
    {
        var data = SyntheticData.Blobs<float>(30, 3, featureCount: 20, seed: 1);
        var net = new NetworkBuilder<float>(20, seed: 2).Dense(300, new Relu()).Dense(3).Build();
        return new Classifier<float>(net, SoftmaxCrossEntropyLoss.Instance, Standardizer.Fit(data), ["a", "b", "c"]);
    }

    [Fact]
    public void AModel_RoundTripsThroughAStream_SeekableOrNot_AndBadStreamsAreRefused()
    {
        var model = Mlp();
        var x = TestData.Uniform<float>(7, 20, 3, scale: 2);
        using var memory = new MemoryStream();
        model.Save(memory);
        Assert.True(memory.Length > 0);
        memory.Position = 0;
        var loaded = Classifier<float>.Load(memory);
        Assert.Equal(model.Scores(x).Span.ToArray(), loaded.Scores(x).Span.ToArray());
        Assert.Equal(["a", "b", "c"], loaded.ClassNames!);

        byte[] bytes = memory.ToArray();
        var fromPipe = ModelFile.Load<float>(new ForwardOnly(bytes));
        Assert.Equal(model.Scores(x).Span.ToArray(), fromPipe.Scores(x).Span.ToArray());

        Assert.Throws<InvalidDataException>(() => Classifier<float>.Load(new MemoryStream(bytes[..(bytes.Length / 2)])));
        byte[] flipped = (byte[])bytes.Clone();
        flipped[^10] ^= 0x20;
        Assert.Throws<InvalidDataException>(() => Classifier<float>.Load(new MemoryStream(flipped)));
        Assert.Throws<InvalidDataException>(() => Classifier<double>.Load(new MemoryStream(bytes)));
        Assert.Throws<ArgumentException>(() => model.Save(new MemoryStream([], writable: false)));
    }

    [Fact]
    public void OneSample_ScoresPredictsAndGivesProbabilities_ExactlyAsInABatch_AllocatingNothing()
    {
        var model = Mlp();
        var x = TestData.Uniform<float>(9, 20, 4, scale: 2);
        var batchScores = model.Scores(x);
        var batchProbabilities = model.Probabilities(x);
        int[] batchPredictions = model.Predict(x);
        var scores = new float[3];
        var probabilities = new float[3];
        for (int i = 0; i < x.Rows; i++)
        {
            model.Scores(x.Row(i), scores);
            Assert.Equal(batchScores.Row(i).ToArray(), scores);
            model.Probabilities(x.Row(i), probabilities);
            Assert.Equal(batchProbabilities.Row(i).ToArray(), probabilities);
            Assert.Equal(batchPredictions[i], model.Predict(x.Row(i)));
        }

        var row = x.Row(0).ToArray();
        for (int i = 0; i < 20; i++)
            model.Predict(row);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++)
        {
            model.Predict(row);
            model.Probabilities(row, probabilities);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        Assert.Throws<ArgumentException>(() => model.Predict(new float[19]));
        Assert.Throws<ArgumentException>(() => model.Scores(row, new float[2]));
        var hinge = new Classifier<float>(new LinearScore<float>(20, 3), new MulticlassHingeLoss());
        Assert.Throws<InvalidOperationException>(() => hinge.Probabilities(row, probabilities));
    }

    [Theory]
    [InlineData(784, 256, false)]
    [InlineData(784, 300, true)]   // a scalar tail of columns
    [InlineData(10, 33, false)]
    [InlineData(1000, 64, true)]   // K over several KC slices
    [InlineData(1100, 300, true)]  // split across cores by K slices, an odd count of them
    [InlineData(2000, 128, false)] // several slices a core
    public void AOneRowProduct_HasTheBitsOfThatRowInABatch(int k, int n, bool accumulate)
    {
        var a = TestData.Uniform<float>(5, k, 1);
        var b = TestData.Uniform<float>(k, n, 2);
        var batch = TestData.Uniform<float>(5, n, 3);
        var single = new Matrix<float>(1, n);
        batch.Row(2).CopyTo(single.Span);
        Gemm.Multiply(a, b, batch, accumulate);
        Gemm.Multiply(a.AsReadOnlySpan().SliceRows(2, 1), b.AsReadOnlySpan(), single.AsSpan(), accumulate);
        Assert.Equal(batch.Row(2).ToArray(), single.Span.ToArray());
        // And against the naive sum, to the rounding of K terms.
        for (int j = 0; j < n; j += 7)
        {
            double expected = accumulate ? TestData.Uniform<float>(5, n, 3)[2, j] : 0;
            for (int p = 0; p < k; p++)
                expected += (double)a[2, p] * b[p, j];
            Assert.Equal(expected, single[0, j], 1e-3);
        }
    }

    [Fact]
    public void ADataSet_IsBuiltFromRecords_WithSelectors()
    {
        var records = new[] { (Pixels: new[] { 0.5f, 1f }, Kind: 1), (Pixels: new[] { 0f, 0.25f }, Kind: 0), (Pixels: new[] { 1f, 1f }, Kind: 2) };
        var data = DataSet<float>.FromRows(records, r => r.Pixels, r => r.Kind, classCount: 3);
        Assert.Equal(3, data.Count);
        Assert.Equal([0.5f, 1f, 0f, 0.25f, 1f, 1f], data.Features.Span.ToArray());
        Assert.Equal([1, 0, 2], data.Labels.ToArray());
        var e = Assert.Throws<ArgumentException>(() => DataSet<float>.FromRows([.. records, (Pixels: new[] { 1f }, Kind: 0)], r => r.Pixels, r => r.Kind, 3));
        Assert.Contains("Record 3 has 1 features", e.Message);
        Assert.ThrowsAny<ArgumentException>(() => DataSet<float>.FromRows(records, r => r.Pixels, r => r.Kind + 5, 3));
        Assert.Throws<ArgumentException>(() => DataSet<float>.FromRows(Array.Empty<(float[] Pixels, int Kind)>(), r => r.Pixels, r => r.Kind, 3));
    }

    /// <summary>A stream that can only be read forward, as a network stream is.</summary>
    private sealed class ForwardOnly(byte[] bytes) : Stream
    {
        private int _position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, 1000), bytes.Length - _position);
            Array.Copy(bytes, _position, buffer, offset, n);
            _position += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
