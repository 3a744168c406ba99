using System.Numerics;

namespace NeuralBasics.Training.Distributed;

/// <summary>The synchronous all-reduce among threads of this process: an <see cref="AllReduceCore{T}"/> behind one lock.</summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class InProcessAllReduce<T> : IGradientAllReduce<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly AllReduceCore<T> _core;
    private readonly Lock _lock = new();

    /// <summary>An all-reduce among <paramref name="workerCount"/> workers.</summary>
    public InProcessAllReduce(int workerCount) => _core = new AllReduceCore<T>(workerCount);

    /// <inheritdoc/>
    public int WorkerCount => _core.WorkerCount;

    /// <inheritdoc/>
    public async ValueTask<int> AllReduceAsync(MessageStamp stamp, int rows, IReadOnlyList<Memory<T>> gradients, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        Task<AllReduceResult<T>> round;
        lock (_lock)
            round = _core.Contribute(stamp, rows, [.. gradients.Select(g => (ReadOnlyMemory<T>)g)]);
        var result = await round.WaitAsync(cancellationToken).ConfigureAwait(false);
        for (int k = 0; k < gradients.Count; k++)
            result.Sum[k].CopyTo(gradients[k].Span);
        return result.Rows;
    }
}
