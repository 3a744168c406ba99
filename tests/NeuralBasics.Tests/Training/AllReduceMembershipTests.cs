using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Training;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Tests.Training;

public class AllReduceMembershipTests
{
    private static ReadOnlyMemory<double>[] Tensor(params double[] values) => [values];

    [Fact]
    public async Task ARoundPastItsDeadline_CompletesWithoutTheMissing_WhoAreDroppedForGood()
    {
        var core = new AllReduceCore<double>(3);
        // Round 1: everyone joins. Before that, a deadline drops nobody: a slow start is no death.
        _ = core.Contribute(new MessageStamp(0, 1), 1, Tensor(0, 0));
        Assert.Empty(core.Expire(1));
        _ = core.Contribute(new MessageStamp(1, 1), 1, Tensor(0, 0));
        _ = core.Contribute(new MessageStamp(2, 1), 1, Tensor(0, 0));
        Assert.False(core.IsOpen(1));
        // Round 2: worker 2 does not come.
        var first = core.Contribute(new MessageStamp(0, 2), 2, Tensor(1, 2));
        var second = core.Contribute(new MessageStamp(1, 2), 3, Tensor(10, 20));
        Assert.True(core.IsOpen(2));
        Assert.Equal([2], core.Expire(2));
        var result = await first;
        Assert.Same(result, await second);
        Assert.Equal([11.0, 22.0], result.Sum[0]);
        Assert.Equal(5, result.Rows);
        Assert.Equal([0, 1], result.Contributors);
        Assert.Equal([0, 1], core.Members);
        Assert.Equal(2, core.Dropped[2]);
        // Worker 2's late contribution, to the expired round or a later one, is never added.
        Assert.Contains("Worker 2 was dropped from the all-reduce when round 2 passed its deadline",
            Refused(core, new MessageStamp(2, 2)).Message);
        Refused(core, new MessageStamp(2, 3));
        // The next round waits only for the members left.
        var next = core.Contribute(new MessageStamp(1, 3), 1, Tensor(3, 4));
        Assert.False(next.IsCompleted);
        var nextResult = await core.Contribute(new MessageStamp(0, 3), 1, Tensor(1, 2));
        Assert.Equal([4.0, 6.0], nextResult.Sum[0]);
        // Expiring a round already complete drops nobody.
        Assert.Empty(core.Expire(3));
    }

    /// <summary>The exception a contribution from <paramref name="stamp"/> throws at once (not a faulted task).</summary>
    private static InvalidOperationException Refused(AllReduceCore<double> core, MessageStamp stamp)
    {
        try
        {
            core.Contribute(stamp, 1, Tensor(100, 200));
        }
        catch (InvalidOperationException e)
        {
            return e;
        }
        throw new Xunit.Sdk.XunitException($"The contribution from {stamp} was accepted.");
    }

    [Fact]
    public async Task ALaterRoundWaitingOnlyForTheDropped_CompletesWithTheExpiry()
    {
        var core = new AllReduceCore<double>(2);
        _ = core.Contribute(new MessageStamp(0, 1), 1, Tensor(0));
        _ = core.Contribute(new MessageStamp(1, 1), 1, Tensor(0));
        var roundTwo = core.Contribute(new MessageStamp(0, 2), 1, Tensor(1));
        // Worker 0 is already in round 3 (it cannot be, in a synchronous run; a host's timer may fire late).
        var roundThree = core.Contribute(new MessageStamp(0, 3), 1, Tensor(5));
        core.Expire(2);
        var two = await roundTwo;
        var three = await roundThree;
        Assert.Equal([1.0], two.Sum[0]);
        Assert.Equal([5.0], three.Sum[0]);
    }

    [Fact(Timeout = 30_000)]
    public async Task AWorkerThatStops_CostsTheOthersOneDeadline_AndTheyFinishTogether()
    {
        // Three workers with a 300 ms round deadline; worker 2 dies (stops contributing) in its first epoch.
        var data = SyntheticData.Spiral<double>(30, 3, seed: 7);
        var start = new NetworkBuilder<double>(2, seed: 1).Dense(6, new Relu()).Dense(3).Build();
        var allReduce = new InProcessAllReduce<double>(3, TimeSpan.FromMilliseconds(300));
        var replicas = Enumerable.Range(0, 3).Select(_ => start.Clone()).ToArray();
        var options = new SynchronousOptions { Epochs = 2, BatchSize = 10, Seed = 2 };
        using var death = new CancellationTokenSource();
        var runs = Enumerable.Range(0, 3).Select(w => Task.Run(async () =>
        {
            var worker = new SynchronousWorker<double>(new TrainingSetup<double>(replicas[w], SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.02)),
                w == 2 ? new Dying(allReduce, rounds: 3) : allReduce, w, options);
            int[] rows = [.. Enumerable.Range(0, data.Count).Where(i => i % 3 == w)];
            return await worker.RunAsync(data, rows);
        })).ToArray();
        var reports = await Task.WhenAll(runs[0], runs[1]);
        await Assert.ThrowsAsync<OperationCanceledException>(() => runs[2]);
        Assert.Equal([0, 1], allReduce.Members);
        // The survivors applied the same sums in the same order: identical replicas.
        Assert.Equal(replicas[0].Parameters.SelectMany(p => p.Value.Span.ToArray()), replicas[1].Parameters.SelectMany(p => p.Value.Span.ToArray()));
        Assert.All(reports, r => Assert.Equal(2, r.Epoch));
    }

    /// <summary>An all-reduce that works for a few rounds, then never answers, as a killed worker would not.</summary>
    private sealed class Dying(IGradientAllReduce<double> inner, int rounds) : IGradientAllReduce<double>
    {
        public int WorkerCount => inner.WorkerCount;

        public ValueTask<int> AllReduceAsync(MessageStamp stamp, int rows, IReadOnlyList<Memory<double>> gradients, CancellationToken cancellationToken = default) =>
            stamp.Sequence <= rounds ? inner.AllReduceAsync(stamp, rows, gradients, cancellationToken) : throw new OperationCanceledException("killed");
    }
}
