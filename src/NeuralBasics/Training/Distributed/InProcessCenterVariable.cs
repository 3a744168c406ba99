using System.Numerics;

namespace NeuralBasics.Training.Distributed;

/// <summary>The center variable in this process's memory: a <see cref="CenterVariableCore{T}"/> behind one lock.</summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class InProcessCenterVariable<T> : ICenterVariable<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly CenterVariableCore<T> _core;
    private readonly Lock _lock = new();

    /// <summary>Starts the center at <paramref name="initial"/> (copied), one array per parameter tensor.</summary>
    public InProcessCenterVariable(IEnumerable<ReadOnlyMemory<T>> initial) => _core = new CenterVariableCore<T>(initial);

    /// <summary>The exchanges applied so far.</summary>
    public long Version
    {
        get
        {
            lock (_lock)
                return _core.Version;
        }
    }

    /// <inheritdoc/>
    public ValueTask<ExchangeReply> ExchangeAsync(MessageStamp stamp, T alpha, IReadOnlyList<Memory<T>> parameters, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
            return ValueTask.FromResult(_core.Exchange(stamp, alpha, parameters));
    }

    /// <inheritdoc/>
    public ValueTask<long> ReadAsync(IReadOnlyList<Memory<T>> destination, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
            return ValueTask.FromResult(_core.Read(destination));
    }
}
