using System.Runtime.ExceptionServices;

namespace NeuralBasics.Training.Distributed;

/// <summary>
/// Runs in-process workers, one dedicated thread each, over shards of a seeded shuffle of the rows:
/// the first failure cancels the others and is rethrown once all have stopped.
/// </summary>
internal static class WorkerGroup
{
    /// <summary>Worker <c>w</c>'s shard: its contiguous part of the rows shuffled with <paramref name="seed"/>.</summary>
    public static int[][] Shards(int samples, int workers, int seed)
    {
        var order = Enumerable.Range(0, samples).ToArray();
        new Random(seed).Shuffle(order);
        return [.. Enumerable.Range(0, workers).Select(w => order[(int)((long)samples * w / workers)..(int)((long)samples * (w + 1) / workers)])];
    }

    public static WorkerReport[] Run(int workers, Func<int, CancellationToken, Task<WorkerReport>> work, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ExceptionDispatchInfo? failure = null;
        var reports = new WorkerReport[workers];
        var threads = new Thread[workers];
        for (int w = 0; w < workers; w++)
        {
            int worker = w;
            threads[w] = new Thread(() =>
            {
                try
                {
                    // The in-process shared state answers synchronously, so the whole loop stays on this thread.
                    reports[worker] = work(worker, stop.Token).GetAwaiter().GetResult();
                }
                catch (Exception e)
                {
                    // A worker cancelled because another failed is not the failure to report.
                    if (e is not OperationCanceledException || !stop.IsCancellationRequested || cancellationToken.IsCancellationRequested)
                        Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null);
                    stop.Cancel();
                }
            }) { IsBackground = true, Name = $"NeuralBasics worker {worker}" };
            threads[w].Start();
        }
        foreach (var thread in threads)
            thread.Join();
        cancellationToken.ThrowIfCancellationRequested();
        failure?.Throw();
        return reports;
    }
}
