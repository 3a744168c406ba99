using System.Numerics;
using NeuralBasics.Optimizers;

namespace NeuralBasics.Training.Distributed;

/// <summary>The parameter server in this process's memory: a <see cref="ParameterServerCore{T}"/> behind one lock.</summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class InProcessParameterServer<T> : IParameterServer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ParameterServerCore<T> _core;
    private readonly Lock _lock = new();

    /// <summary>Starts the server at <paramref name="initial"/> (copied), updating with <paramref name="rule"/>.</summary>
    /// <param name="initial">The parameter tensors.</param>
    /// <param name="rule">The update rule applied to each push.</param>
    /// <param name="staleness">The staleness bound; null accepts any staleness.</param>
    public InProcessParameterServer(IEnumerable<ReadOnlyMemory<T>> initial, UpdateRule rule, StalenessBound? staleness = null) =>
        _core = new ParameterServerCore<T>(initial, rule, staleness);

    /// <summary>The updates applied so far (the parameters' version).</summary>
    public long Version
    {
        get
        {
            lock (_lock)
                return _core.Version;
        }
    }

    /// <summary>Pushes rejected as too stale so far.</summary>
    public long RejectedPushes
    {
        get
        {
            lock (_lock)
                return _core.RejectedPushes;
        }
    }

    /// <inheritdoc/>
    public ValueTask<long> FetchAsync(MessageStamp stamp, IReadOnlyList<Memory<T>> destination, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
            return ValueTask.FromResult(_core.Fetch(destination));
    }

    /// <inheritdoc/>
    public ValueTask<ExchangeReply> PushAsync(MessageStamp stamp, long baseVersion, IReadOnlyList<ReadOnlyMemory<T>> gradients,
        CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
            return ValueTask.FromResult(_core.Push(stamp, baseVersion, gradients));
    }

    /// <summary>A copy of the whole state.</summary>
    public ParameterServerSnapshot<T> Snapshot()
    {
        lock (_lock)
            return _core.Snapshot();
    }
}
