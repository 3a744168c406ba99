using System.Numerics;
using System.Runtime.ExceptionServices;
using NeuralBasics.Data;
using NeuralBasics.Kernels;

namespace NeuralBasics.Training.Distributed;

/// <summary>What Downpour and EASGD share: shards, one thread per worker, stopping all on the first failure, and the batch loop.</summary>
internal static class AsynchronousWorkers
{
    /// <summary>
    /// Shuffles the samples with <paramref name="seed"/>, cuts them into one contiguous shard per
    /// worker, runs <paramref name="work"/>(worker, shard, token) on a thread each, and rethrows the
    /// first worker exception after cancelling the others.
    /// </summary>
    public static void Run(int samples, int workers, int seed, Action<int, int[], CancellationToken> work, CancellationToken cancellationToken)
    {
        var order = Enumerable.Range(0, samples).ToArray();
        new Random(seed).Shuffle(order);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ExceptionDispatchInfo? failure = null;
        var threads = new Thread[workers];
        for (int w = 0; w < workers; w++)
        {
            int worker = w;
            int start = (int)((long)samples * worker / workers), end = (int)((long)samples * (worker + 1) / workers);
            int[] shard = order[start..end];
            threads[w] = new Thread(() =>
            {
                try
                {
                    work(worker, shard, stop.Token);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null);
                    stop.Cancel();
                }
            }) { IsBackground = true, Name = $"NeuralBasics worker {worker}" };
            threads[w].Start();
        }
        foreach (var thread in threads)
            thread.Join();
        failure?.Throw();
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>
    /// A worker's loop: <paramref name="epochs"/> passes over its shard, reshuffled each epoch with
    /// its own seeded generator, gathering each batch and handing it to <paramref name="step"/>
    /// (batch, labels, epoch from 1, batch from 1).
    /// </summary>
    public static void ForEachBatch<T>(DataSet<T> training, int[] shard, int batchSize, int epochs, int seed, int worker,
        CancellationToken token, Action<Matrix<T>, ArraySegment<int>, int, int> step)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(unchecked(seed * 7919 + worker));
        int batch = Math.Min(batchSize, shard.Length);
        var batchX = new Matrix<T>(batch, training.FeatureCount);
        var batchY = new int[batch];
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            random.Shuffle(shard);
            for (int s = 0, index = 1; s < shard.Length; s += batch, index++)
            {
                token.ThrowIfCancellationRequested();
                int size = Math.Min(batch, shard.Length - s);
                var rows = shard.AsSpan(s, size);
                RowOps.GatherRows(training.Features.AsReadOnlySpan(), rows, batchX.AsSpan().SliceRows(0, size));
                for (int r = 0; r < size; r++)
                    batchY[r] = training.Labels[rows[r]];
                step(batchX.SliceRows(0, size), new ArraySegment<int>(batchY, 0, size), epoch, index);
            }
        }
    }

    /// <summary>Checks that the data fits the network.</summary>
    public static void CheckData<T>(DataSet<T> training, IScoreFunction<T> score)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(training);
        if (training.FeatureCount != score.InputCount || training.ClassCount != score.ClassCount)
            throw new ArgumentException(
                $"The data has {training.FeatureCount} features and {training.ClassCount} classes but {score} takes {score.InputCount} and scores {score.ClassCount}.",
                nameof(training));
    }
}
