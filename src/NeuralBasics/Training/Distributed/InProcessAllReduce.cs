using System.Numerics;

namespace NeuralBasics.Training.Distributed;

/// <summary>The synchronous all-reduce among threads of this process: an <see cref="AllReduceCore{T}"/> behind one lock.</summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class InProcessAllReduce<T> : IGradientAllReduce<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly AllReduceCore<T> _core;
    private readonly Lock _lock = new();
    private readonly TimeSpan? _roundDeadline;

    /// <summary>
    /// An all-reduce among <paramref name="workerCount"/> workers. With <paramref name="roundDeadline"/>,
    /// a round still waiting that long after its first contribution completes without the workers
    /// that have not contributed, which are dropped for the rest of the run (see <see cref="AllReduceCore{T}"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The deadline is not positive.</exception>
    public InProcessAllReduce(int workerCount, TimeSpan? roundDeadline = null)
    {
        if (roundDeadline is { } deadline)
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(deadline, TimeSpan.Zero, nameof(roundDeadline));
        _core = new AllReduceCore<T>(workerCount);
        _roundDeadline = roundDeadline;
    }

    /// <summary>The workers still taking part (all, unless some missed a round's deadline).</summary>
    public IReadOnlyList<int> Members
    {
        get
        {
            lock (_lock)
                return [.. _core.Members];
        }
    }

    /// <inheritdoc/>
    public int WorkerCount => _core.WorkerCount;

    /// <inheritdoc/>
    public async ValueTask<int> AllReduceAsync(MessageStamp stamp, int rows, IReadOnlyList<Memory<T>> gradients, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        Task<AllReduceResult<T>> round;
        bool opened;
        lock (_lock)
            round = _core.Contribute(stamp, rows, [.. gradients.Select(g => (ReadOnlyMemory<T>)g)], out opened);
        if (opened && _roundDeadline is { } deadline)
            _ = ExpireAfter(stamp.Sequence, deadline);
        var result = await round.WaitAsync(cancellationToken).ConfigureAwait(false);
        for (int k = 0; k < gradients.Count; k++)
            result.Sum[k].CopyTo(gradients[k].Span);
        return result.Rows;
    }

    private async Task ExpireAfter(long sequence, TimeSpan deadline)
    {
        await Task.Delay(deadline).ConfigureAwait(false);
        lock (_lock)
            _core.Expire(sequence);
    }
}
