using System.Numerics;
using System.Numerics.Tensors;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Orleans;

/// <summary>The <see cref="ICenterVariable{T}"/> a worker in any process uses to reach the run's <see cref="ICenterVariableGrain{T}"/>.</summary>
/// <typeparam name="T">The element type.</typeparam>
/// <remarks>
/// At a 16-bit <see cref="Precision"/> the worker sends its parameters rounded to 16 bits and gets
/// back, also in 16 bits, the move α·(x̂ − x̃) the center computed from them, which it subtracts from
/// its own full-precision parameters: the rounding touches the moves, never the parameters the
/// worker keeps. At <see cref="MessagePrecision.Full"/> the grain answers with the moved parameters.
/// </remarks>
public sealed class OrleansCenterVariable<T> : ICenterVariable<T>, IExchangeMeter
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ICenterVariableGrain<T> _grain;
    private readonly RetryPolicy _retry;
    private readonly ExchangeByteCounter _bytes = new();

    /// <summary>
    /// The center variable of the run <paramref name="run"/>, reached through <paramref name="grains"/>;
    /// exchanges travel at <paramref name="precision"/> (see the remarks).
    /// </summary>
    public OrleansCenterVariable(IGrainFactory grains, string run, RetryPolicy? retry = null, MessagePrecision precision = MessagePrecision.Full)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentException.ThrowIfNullOrEmpty(run);
        if (!Enum.IsDefined(precision))
            throw new ArgumentOutOfRangeException(nameof(precision), precision, "Unknown message precision.");
        _grain = grains.GetGrain<ICenterVariableGrain<T>>(run);
        _retry = retry ?? RetryPolicy.Default;
        Precision = precision;
    }

    /// <summary>How the exchanges' values travel.</summary>
    public MessagePrecision Precision { get; }

    /// <summary>The bytes of the values each worker has sent and received through this client (as packed: 16-bit values count 2 bytes).</summary>
    public (long Sent, long Received) BytesOf(int worker) => _bytes.BytesOf(worker);

    /// <summary>Gives the center its initial values unless it has some already; returns the version.</summary>
    /// <exception cref="InvalidOperationException">The center already holds tensors of other sizes: another model uses the run name.</exception>
    public Task<long> InitializeAsync(IEnumerable<ReadOnlyMemory<T>> initial, CancellationToken cancellationToken = default)
    {
        var values = PackedTensors.Pack<T>([.. initial]);
        return _retry.Run(() => _grain.Initialize(values), cancellationToken);
    }

    /// <inheritdoc/>
    public async ValueTask<ExchangeReply> ExchangeAsync(MessageStamp stamp, T alpha, IReadOnlyList<Memory<T>> parameters, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var values = PackedTensors.Pack<T>([.. parameters.Select(p => (ReadOnlyMemory<T>)p)], Precision);
        var answer = await _retry.Run(() => _grain.Exchange(stamp, alpha, values), cancellationToken).ConfigureAwait(false);
        _bytes.Add(stamp.Worker, values.Bytes.Length, answer.Parameters.Bytes.Length);
        if (answer.Reply.Status == ExchangeStatus.Outdated)
            return answer.Reply;
        if (Precision == MessagePrecision.Full)
        {
            answer.Parameters.CopyTo(parameters);
            return answer.Reply;
        }
        var moves = answer.Parameters.Unpack<T>();
        if (moves.Length != parameters.Count)
            throw new InvalidOperationException($"{moves.Length} tensors of moves arrived for {parameters.Count} parameters.");
        for (int k = 0; k < moves.Length; k++)
            TensorPrimitives.Subtract(parameters[k].Span, moves[k], parameters[k].Span);
        return answer.Reply;
    }

    /// <inheritdoc/>
    public async ValueTask<long> ReadAsync(IReadOnlyList<Memory<T>> destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var read = await _retry.Run(() => _grain.Read(), cancellationToken).ConfigureAwait(false);
        read.Tensors.CopyTo(destination);
        return read.Version;
    }
}
