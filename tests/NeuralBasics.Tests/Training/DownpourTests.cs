using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Scoring;
using NeuralBasics.Training;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Tests.Training;

public class DownpourTests
{
    private static double[] Values(IScoreFunction<double> score) => [.. score.Parameters.SelectMany(p => p.Value.Span.ToArray())];

    [Fact]
    public void OneWorkerFetchingAndPushingEveryStep_IsPlainSgd()
    {
        var data = SyntheticData.Blobs<double>(20, 3, 2, seed: 1);
        var score = new LinearScore<double>(2, 3, seed: 2);
        var model = new DownpourTrainer<double>(score, SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.05),
            new DownpourOptions { Workers = 1, FetchEvery = 1, PushEvery = 1, Epochs = 2, BatchSize = 8, Seed = 4 }).Train(data).Model;

        var byHand = SingleWorkerReference.SgdParameters(data, score, 0.05, epochs: 2, batchSize: 8, seed: 4);
        Assert.Equal(byHand, Values(model.CopyScoreFunction()));
    }

    [Fact]
    public void TwoWorkers_LearnSeparableBlobs_AndAFashionMnistSubset()
    {
        var blobs = SyntheticData.Blobs<float>(100, 3, 2, seed: 5);
        var blobModel = new DownpourTrainer<float>(new LinearScore<float>(2, 3), SoftmaxCrossEntropyLoss.Instance, null, new AdaGrad(0.1),
            new DownpourOptions { Workers = 2, Epochs = 20, BatchSize = 16, FetchEvery = 2, PushEvery = 2 }).Train(blobs).Model;
        Assert.True(blobModel.Accuracy(blobs) >= 0.99);

        var subset = Path.Combine(AppContext.BaseDirectory, "TestData", "fashion-mnist-subset");
        var (train, test) = FashionMnist.Load<float>(subset);
        var net = new NetworkBuilder<float>(784, seed: 1).Dense(64, new Relu()).Dense(10).Build();
        var model = new DownpourTrainer<float>(net, SoftmaxCrossEntropyLoss.Instance, null, new Adam(1e-3),
            new DownpourOptions { Workers = 2, Epochs = 5, BatchSize = 32, FetchEvery = 2, PushEvery = 1, Seed = 1 }).Train(train).Model;
        double accuracy = model.Accuracy(test);
        Assert.True(accuracy >= 0.74, $"test accuracy {accuracy:P1}");
    }

    private sealed class FailingLoss(int failAfter) : ILoss
    {
        private int _calls;

        public T Compute<T>(ReadOnlyMatrixSpan<T> scores, ReadOnlySpan<int> labels, MatrixSpan<T> gradient)
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            if (Interlocked.Increment(ref _calls) == failAfter)
                throw new InvalidOperationException("a worker failed");
            return SoftmaxCrossEntropyLoss.Instance.Compute(scores, labels, gradient);
        }
    }

    [Fact]
    public async Task AWorkerThatThrows_StopsTheRunWithItsException_AndTheServerKeepsCompletedPushes()
    {
        var data = SyntheticData.Blobs<double>(50, 3, 2, seed: 1);
        var score = new LinearScore<double>(2, 3, seed: 2);
        var before = Values(score);
        var trainer = new DownpourTrainer<double>(score, new FailingLoss(7), null, new Sgd(0.05),
            new DownpourOptions { Workers = 2, Epochs = 50, BatchSize = 8 });
        var server = new InProcessParameterServer<double>(score.Parameters.Select(p => (ReadOnlyMemory<double>)p.Value.Memory), new Sgd(0.05));
        var e = Assert.Throws<InvalidOperationException>(() => trainer.Train(data, server, workers: 2));
        Assert.Equal("a worker failed", e.Message);
        Assert.Equal(before, Values(score));
        // The run stopped early: a full run would push 50 epochs x 10 batches x 2 workers = 1,000
        // times; the other worker stops at its next batch, a few pushes after the failure at most.
        Assert.InRange(server.Version, 0, 100);
        var fetched = score.Clone();
        await server.FetchAsync(new MessageStamp(0, 1), [.. fetched.Parameters.Select(p => p.Value.Memory)]);
        Assert.All(Values(fetched), v => Assert.True(double.IsFinite(v)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DownpourOptions { PushEvery = 0 });
    }

    [Fact]
    public void TheStalenessBoundReachesTheServer_AndAWorkerCatchesUpAfterARejection()
    {
        var data = SyntheticData.Blobs<double>(20, 3, 2, seed: 1);
        var score = new LinearScore<double>(2, 3, seed: 2);
        var options = new DownpourOptions { Workers = 1, FetchEvery = 3, PushEvery = 1, Epochs = 2, BatchSize = 10, Seed = 4 };
        var free = new DownpourTrainer<double>(score, SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.05), options).Train(data);
        var bounded = new DownpourTrainer<double>(score, SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.05),
            options with { Staleness = new StalenessBound(0) }).Train(data);

        Assert.Equal(0, free.Reports[0].Rejected);
        // Twelve pushes in threes between the scheduled fetches (after steps 3, 6, 9): the first of
        // each three is fresh, the second one version stale and rejected, and the worker fetches at
        // once, so the third is fresh again.
        Assert.Equal(12, bounded.Reports[0].Steps);
        Assert.Equal(4, bounded.Reports[0].Rejected);
        Assert.NotEqual(Values(free.Model.CopyScoreFunction()), Values(bounded.Model.CopyScoreFunction()));
    }

    /// <summary>
    /// Against a server that answers at once, overlapped exchanges are the plain ones: the same bits
    /// with one worker and plain SGD by hand, and with the staleness bound's rejections and catch-ups.
    /// </summary>
    [Fact]
    public void OverlappedExchanges_AgainstAServerThatAnswersAtOnce_GiveTheSameBits()
    {
        var data = SyntheticData.Blobs<double>(20, 3, 2, seed: 1);
        var score = new LinearScore<double>(2, 3, seed: 2);
        var every = new DownpourOptions { Workers = 1, FetchEvery = 1, PushEvery = 1, Epochs = 2, BatchSize = 8, Seed = 4, Overlap = true };
        var model = new DownpourTrainer<double>(score, SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.05), every).Train(data).Model;
        Assert.Equal(SingleWorkerReference.SgdParameters(data, score, 0.05, epochs: 2, batchSize: 8, seed: 4), Values(model.CopyScoreFunction()));

        var bounded = new DownpourOptions { Workers = 1, FetchEvery = 3, PushEvery = 1, Epochs = 2, BatchSize = 10, Seed = 4, Staleness = new StalenessBound(0) };
        var plain = new DownpourTrainer<double>(score, SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.05), bounded).Train(data);
        var overlapped = new DownpourTrainer<double>(score, SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.05), bounded with { Overlap = true }).Train(data);
        Assert.Equal(4, overlapped.Reports[0].Rejected);
        Assert.Equal(plain.Reports[0] with { Elapsed = default }, overlapped.Reports[0] with { Elapsed = default });
        Assert.Equal(Values(plain.Model.CopyScoreFunction()), Values(overlapped.Model.CopyScoreFunction()));
    }

    /// <summary>
    /// With overlap, a push that has not been answered does not stop the worker: it computes on (and
    /// fetches) until the next push, which waits for it. Without overlap, nothing happens until the answer.
    /// </summary>
    [Theory(Timeout = 60_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AnUnansweredPush_HoldsTheWorkerOnlyAtItsNextPush_WhenExchangesOverlap(bool overlap)
    {
        var data = SyntheticData.Blobs<double>(40, 3, 2, seed: 1);
        var score = new LinearScore<double>(2, 3, seed: 2);
        var inner = new InProcessParameterServer<double>(score.Parameters.Select(p => (ReadOnlyMemory<double>)p.Value.Memory), new Sgd(0.05));
        var server = new HeldFirstPush(inner);
        var options = new DownpourOptions { Workers = 1, FetchEvery = 1, PushEvery = 4, Epochs = 1, BatchSize = 10, Seed = 4, Overlap = overlap };
        var run = new DownpourWorker<double>(new TrainingSetup<double>(score.Clone(), SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.05)), server, 0, options)
            .RunAsync(data, Enumerable.Range(0, data.Count).ToArray());
        await server.FirstPushArrived.Task;
        // 12 steps of 10 rows, a push after steps 4, 8, 12 and a fetch after every step (plus the first).
        if (overlap)
        {
            // Steps 5-8 run while push 1 waits (the push after step 8 waits for it): fetches 1 (start) + 4 + 3.
            await server.FetchesReached(8);
            await Task.Delay(200);
            Assert.Equal(8, server.Fetches);
            Assert.Equal(1, server.Pushes);
        }
        else
        {
            // The push after step 4 holds everything: fetches 1 (start) + 3.
            await Task.Delay(200);
            Assert.Equal(4, server.Fetches);
        }
        Assert.False(run.IsCompleted);
        server.Release();
        var report = await run;
        Assert.Equal(12, report.Steps);
        Assert.Equal(3, server.Pushes);
        Assert.Equal(13, server.Fetches);
    }

    /// <summary>A server whose first push is answered only when the test says so; it counts the calls.</summary>
    private sealed class HeldFirstPush(InProcessParameterServer<double> inner) : IParameterServer<double>
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Lock _lock = new();
        private readonly List<(int Count, TaskCompletionSource Reached)> _waits = [];
        private int _fetches, _pushes;

        public TaskCompletionSource FirstPushArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Fetches => Volatile.Read(ref _fetches);

        public int Pushes => Volatile.Read(ref _pushes);

        public void Release() => _release.TrySetResult();

        public Task FetchesReached(int count)
        {
            lock (_lock)
            {
                if (_fetches >= count)
                    return Task.CompletedTask;
                var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waits.Add((count, reached));
                return reached.Task;
            }
        }

        public async ValueTask<long> FetchAsync(MessageStamp stamp, IReadOnlyList<Memory<double>> destination, CancellationToken cancellationToken = default)
        {
            long version = await inner.FetchAsync(stamp, destination, cancellationToken);
            lock (_lock)
            {
                _fetches++;
                foreach (var (count, reached) in _waits.Where(w => _fetches >= w.Count))
                    reached.TrySetResult();
            }
            return version;
        }

        public async ValueTask<ExchangeReply> PushAsync(MessageStamp stamp, long baseVersion, IReadOnlyList<ReadOnlyMemory<double>> gradients, CancellationToken cancellationToken = default)
        {
            // Copied now, as a network client would serialize it, and applied when released.
            ReadOnlyMemory<double>[] copy = [.. gradients.Select(g => (ReadOnlyMemory<double>)g.ToArray())];
            if (Interlocked.Increment(ref _pushes) == 1)
            {
                FirstPushArrived.TrySetResult();
                await _release.Task;
            }
            return await inner.PushAsync(stamp, baseVersion, copy, cancellationToken);
        }
    }
}
