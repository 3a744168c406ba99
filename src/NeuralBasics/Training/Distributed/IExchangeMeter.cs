namespace NeuralBasics.Training.Distributed;

/// <summary>
/// A transport that counts the tensor bytes each worker's messages carry — 16-bit values where it
/// packs them so, or the parts of the gradients a ring or scatter-gather all-reduce moves — so that
/// a worker's <see cref="WorkerReport.BytesSent"/> and <see cref="WorkerReport.BytesReceived"/> say
/// what went over its links. A worker whose transport does not implement it counts the model's
/// size in its own type per message.
/// </summary>
public interface IExchangeMeter
{
    /// <summary>
    /// The tensor bytes <paramref name="worker"/> has sent and received through this transport so far:
    /// each message once, however often it was retried; headers, stamps and row counts not counted.
    /// </summary>
    (long Sent, long Received) BytesOf(int worker);
}
