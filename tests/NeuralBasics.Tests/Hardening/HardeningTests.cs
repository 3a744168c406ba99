using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Kernels;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Models;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Training;

namespace NeuralBasics.Tests.Hardening;

/// <summary>Determinism across thread counts, concurrent prediction, and faults during saves.</summary>
[Collection(AllocationCollection.Name)] // changes the process-wide thread setting
public sealed class HardeningTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("neuralbasics-hardening-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static float[] TrainMlp(int threads)
    {
        int saved = Gemm.DefaultMaxDegreeOfParallelism;
        try
        {
            Gemm.DefaultMaxDegreeOfParallelism = threads;
            // Big enough that the products split across threads (784-wide inputs, 128 hidden units).
            var data = new DataSet<float>(TestData.Uniform<float>(512, 784, 5), [.. Enumerable.Range(0, 512).Select(i => i % 10)], 10);
            var net = new NetworkBuilder<float>(784, seed: 3).Dense(128, new Relu()).Dense(10).Build();
            new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-4), new Adam(1e-3),
                new TrainerOptions { Epochs = 2, BatchSize = 256, Seed = 9 }).Train(data);
            return [.. net.Parameters.SelectMany(p => p.Value.Span.ToArray())];
        }
        finally
        {
            Gemm.DefaultMaxDegreeOfParallelism = saved;
        }
    }

    [Fact]
    public void SeededTraining_IsBitIdentical_OnOneThreadAndOnAllCores()
    {
        var one = TrainMlp(1);
        var all = TrainMlp(0);
        var again = TrainMlp(0);
        Assert.Equal(one, all);
        Assert.Equal(all, again);
    }

    [Fact]
    public void ATrainedModel_PredictsFromEightThreadsAtOnce_AsFromOne()
    {
        var data = SyntheticData.Spiral<float>(100, 3, seed: 4);
        var net = new NetworkBuilder<float>(2, seed: 1).Dense(32, new Tanh()).Maxout(16, 2).Dense(3).Build();
        var model = new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.01), new TrainerOptions { Epochs = 20 }).Train(data).Model;
        var expectedScores = model.Scores(data.Features).Span.ToArray();
        var expectedClasses = model.Predict(data.Features);

        long predictions = 0;
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, worker =>
        {
            for (int round = 0; round < 400; round++)
            {
                // Alternate single samples and the whole set.
                if (round % 2 == 0)
                {
                    int i = (worker * 37 + round) % data.Count;
                    var one = model.Scores(data.Features.SliceRows(i, 1)).Span.ToArray();
                    if (!one.SequenceEqual(expectedScores.AsSpan(i * 3, 3).ToArray()))
                        failures.Add($"sample {i}");
                    Interlocked.Increment(ref predictions);
                }
                else
                {
                    if (!model.Predict(data.Features).SequenceEqual(expectedClasses))
                        failures.Add("whole set");
                    Interlocked.Add(ref predictions, data.Count);
                }
            }
        });
        Assert.Empty(failures);
        Assert.True(predictions > 200_000, $"{predictions} predictions");
    }

    [Fact]
    public void ASaveInterruptedAtAnyWrite_LeavesThePreviousFileOrTheNewOne()
    {
        var first = new Classifier<float>(new NetworkBuilder<float>(4, seed: 1).Dense(6, new Relu()).Dense(3).Build(), SoftmaxCrossEntropyLoss.Instance);
        var second = new Classifier<float>(new NetworkBuilder<float>(4, seed: 2).Dense(6, new Relu()).Dense(3).Build(), SoftmaxCrossEntropyLoss.Instance);
        string path = Path.Combine(_folder, "model.safetensors");
        first.Save(path);
        byte[] good = File.ReadAllBytes(path);
        var x = TestData.Uniform<float>(5, 4, 1);
        var firstScores = first.Scores(x).Span.ToArray();

        // Count the write calls of a whole save, then fail at each one in turn.
        int writes = 0;
        ModelFile.Save(second, Path.Combine(_folder, "probe.safetensors"), s => new CountingStream(s, () => writes++, failAt: -1));
        Assert.True(writes > 3);
        for (int failAt = 0; failAt < writes; failAt++)
        {
            int calls = 0;
            Assert.Throws<IOException>(() => ModelFile.Save(second, path, s => new CountingStream(s, () => calls++, failAt)));
            Assert.Equal(good, File.ReadAllBytes(path));
            Assert.Equal(firstScores, Classifier<float>.Load(path).Scores(x).Span.ToArray());
        }
        Assert.Equal(2, Directory.GetFiles(_folder).Length); // no temporary files left behind
    }

    [Fact]
    public void ACheckpointOnAFullDisk_SurfacesAsIOException_WithTrainingStateIntact()
    {
        var data = SyntheticData.Spiral<float>(20, 3, seed: 1);
        // A directory where the checkpoint file should go: the atomic rename cannot replace it.
        string blocked = Path.Combine(_folder, "checkpoint");
        Directory.CreateDirectory(blocked);
        var net = new NetworkBuilder<float>(2, seed: 1).Dense(8, new Tanh()).Dense(3).Build();
        var snapshots = new List<float[]>();
        var trainer = new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.01),
            new TrainerOptions { Epochs = 3, CheckpointPath = blocked });
        var e = Assert.ThrowsAny<IOException>(() => trainer.Train(data));
        Assert.NotNull(e.Message);
        // The epoch's weights are in place and usable; nothing half-written sits next to the target.
        Assert.All(net.Parameters.SelectMany(p => p.Value.Span.ToArray()), v => Assert.True(float.IsFinite(v)));
        Assert.Single(Directory.GetFileSystemEntries(_folder));
        Assert.Equal(data.Count, new Classifier<float>(net, SoftmaxCrossEntropyLoss.Instance).Predict(data.Features).Length);
    }

    [Fact]
    public void IndexArithmetic_CannotOverflow_TooLargeShapesAreRefused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Matrix<float>(50_000, 50_000));
        Assert.Contains("more than an array can hold", e.Message);
        Assert.Throws<ArgumentException>(() => new MatrixSpan<float>(new float[10], 100_000, 100_000));
    }

    /// <summary>Counts write calls and throws an IOException at call number <c>failAt</c> (never when negative).</summary>
    private sealed class CountingStream(Stream inner, Action onWrite, int failAt) : Stream
    {
        private int _calls;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void WriteByte(byte value) => Write([value]);

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            onWrite();
            if (_calls++ == failAt)
                throw new IOException($"Simulated failure at write {failAt}.");
            inner.Write(buffer);
        }
    }
}
