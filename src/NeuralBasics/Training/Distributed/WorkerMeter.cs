using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace NeuralBasics.Training.Distributed;

/// <summary>
/// Counts what a worker did and sent, and makes its reports. Bytes come from the transport when it
/// counts them (<see cref="IExchangeMeter"/>, from this meter's start), else the model's size per message.
/// </summary>
internal sealed class WorkerMeter<T>(int worker, IScoreFunction<T> score, object transport)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly IExchangeMeter? _transport = transport as IExchangeMeter;
    private readonly (long Sent, long Received) _transportAtStart = (transport as IExchangeMeter)?.BytesOf(worker) ?? default;
    private double _lossSum;
    private long _lossRows;

    /// <summary>The bytes of all parameter tensors: what one full exchange carries each way.</summary>
    public long TensorBytes { get; } = score.Parameters.Sum(p => (long)p.Value.Memory.Length) * Unsafe.SizeOf<T>();

    public int Epoch;
    public long Steps, Samples, Messages, BytesSent, BytesReceived, Version, Rejected;
    private double _lastEpochLoss = double.NaN;

    public void Batch(T loss, int rows)
    {
        Steps++;
        Samples += rows;
        _lossSum += double.CreateChecked(loss) * rows;
        _lossRows += rows;
    }

    public void Sent(bool tensors = true)
    {
        Messages++;
        if (tensors)
            BytesSent += TensorBytes;
    }

    public void Received() => BytesReceived += TensorBytes;

    public WorkerReport EndEpoch()
    {
        Epoch++;
        _lastEpochLoss = _lossRows > 0 ? _lossSum / _lossRows : double.NaN;
        _lossSum = 0;
        _lossRows = 0;
        return Report();
    }

    public WorkerReport Report()
    {
        if (_transport is not null)
        {
            var (sent, received) = _transport.BytesOf(worker);
            (BytesSent, BytesReceived) = (sent - _transportAtStart.Sent, received - _transportAtStart.Received);
        }
        return new(worker, Epoch, Steps, Samples, _lastEpochLoss, Messages, BytesSent, BytesReceived,
            Stopwatch.GetElapsedTime(_started), Version, Rejected);
    }
}
