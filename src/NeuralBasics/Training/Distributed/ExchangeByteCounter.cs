namespace NeuralBasics.Training.Distributed;

/// <summary>
/// Per-worker counts of tensor bytes sent and received, safe to add to from any thread: what a
/// transport keeps to be an <see cref="IExchangeMeter"/> (the ring and scatter-gather all-reduces and
/// the Orleans transports use one).
/// </summary>
public sealed class ExchangeByteCounter : IExchangeMeter
{
    private readonly Dictionary<int, (long Sent, long Received)> _counts = [];
    private readonly Lock _lock = new();

    /// <summary>Adds <paramref name="sent"/> and <paramref name="received"/> bytes to <paramref name="worker"/>'s counts.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative.</exception>
    public void Add(int worker, long sent, long received)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sent);
        ArgumentOutOfRangeException.ThrowIfNegative(received);
        lock (_lock)
        {
            var (s, r) = _counts.GetValueOrDefault(worker);
            _counts[worker] = (s + sent, r + received);
        }
    }

    /// <inheritdoc/>
    public (long Sent, long Received) BytesOf(int worker)
    {
        lock (_lock)
            return _counts.GetValueOrDefault(worker);
    }
}
