using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace NeuralBasics.Training.Distributed;

/// <summary>
/// What the all-reduces among the workers themselves share (<see cref="RingAllReduce{T}"/>,
/// <see cref="ScatterAllReduce{T}"/>): the mailboxes they exchange through, the bytes each worker
/// moves, and the rounds — without a referee one exchange among all workers; with one, attempts
/// until the referee commits one, each exchange given the round deadline, each worker's own
/// gradients restored before it tries again among the members the referee names (each worker keeps
/// its view of them). The two differ only in their exchange.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
public abstract class PeerAllReduce<T> : IGradientAllReduce<T>, IExchangeMeter
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IReadOnlyList<int> _everyone;
    private readonly IRoundReferee? _referee;
    private readonly TimeSpan _deadline;
    private readonly ConcurrentDictionary<int, IReadOnlyList<int>> _views = new();
    /// <summary>Each worker's own gradients, kept until the referee commits the round (reused round after round).</summary>
    private readonly ConcurrentDictionary<int, T[][]> _own = new();
    private readonly ExchangeByteCounter _bytes = new();

    private protected PeerAllReduce(IRingNetwork<T> network, int workerCount, IRoundReferee? referee, TimeSpan roundDeadline)
    {
        ArgumentNullException.ThrowIfNull(network);
        WorkerCount = Guard.AtLeast(workerCount, 1, "The number of workers", nameof(workerCount));
        if (referee is not null)
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(roundDeadline, TimeSpan.Zero, nameof(roundDeadline));
        Network = network;
        _everyone = [.. Enumerable.Range(0, workerCount)];
        _referee = referee;
        _deadline = roundDeadline;
    }

    /// <inheritdoc/>
    public int WorkerCount { get; }

    /// <summary>The mailboxes.</summary>
    private protected IRingNetwork<T> Network { get; }

    /// <summary>The workers <paramref name="worker"/> last heard take part (all of them, until a referee drops some).</summary>
    public IReadOnlyList<int> MembersSeenBy(int worker) => _views.GetValueOrDefault(worker, _everyone);

    /// <summary>The bytes of the values each worker has put in and taken out of the mailboxes.</summary>
    public (long Sent, long Received) BytesOf(int worker) => _bytes.BytesOf(worker);

    /// <inheritdoc/>
    public ValueTask<int> AllReduceAsync(MessageStamp stamp, int rows, IReadOnlyList<Memory<T>> gradients, CancellationToken cancellationToken = default)
    {
        FlatChunks.CheckContribution(stamp, rows, gradients, WorkerCount);
        return RoundAsync(stamp, rows, gradients, cancellationToken);
    }

    private async ValueTask<int> RoundAsync(MessageStamp stamp, int rows, IReadOnlyList<Memory<T>> gradients, CancellationToken cancellationToken)
    {
        if (_referee is null)
            return await ExchangeAsync(stamp, rows, gradients, _everyone, 0, cancellationToken).ConfigureAwait(false);
        var own = _own.GetOrAdd(stamp.Worker, _ => [.. gradients.Select(g => new T[g.Length])]);
        for (int k = 0; k < own.Length; k++)
            gradients[k].Span.CopyTo(own[k]);
        for (int attempt = 0; ; attempt++)
        {
            var members = MembersSeenBy(stamp.Worker);
            int total = 0;
            bool completed;
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                deadline.CancelAfter(_deadline);
                try
                {
                    total = await ExchangeAsync(stamp, rows, gradients, members, attempt, deadline.Token).ConfigureAwait(false);
                    completed = true;
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    completed = false;
                }
            }
            var decision = await _referee.ReportAsync(stamp, attempt, completed, cancellationToken).ConfigureAwait(false);
            _views[stamp.Worker] = decision.Members;
            if (decision.Commit)
                return total;
            if (!decision.Members.Contains(stamp.Worker))
                throw new InvalidOperationException($"Worker {stamp.Worker} is not among the members of round {stamp.Sequence}'s next attempt.");
            for (int k = 0; k < own.Length; k++)
                own[k].CopyTo(gradients[k].Span);
        }
    }

    /// <summary>
    /// One attempt among <paramref name="members"/> (in id order, the positions in that list taking
    /// the workers' places): the sum written over the gradients, its total rows returned.
    /// </summary>
    private protected abstract ValueTask<int> ExchangeAsync(MessageStamp stamp, int rows, IReadOnlyList<Memory<T>> gradients, IReadOnlyList<int> members,
        int attempt, CancellationToken cancellationToken);

    /// <summary>Counts what one exchange of <paramref name="worker"/> put in and took out of the mailboxes, in values.</summary>
    private protected void Moved(int worker, long sentValues, long receivedValues) =>
        _bytes.Add(worker, sentValues * Unsafe.SizeOf<T>(), receivedValues * Unsafe.SizeOf<T>());

    /// <summary>Where <paramref name="worker"/> stands among <paramref name="members"/>.</summary>
    private protected static int PositionOf(IReadOnlyList<int> members, int worker)
    {
        for (int i = 0; i < members.Count; i++)
            if (members[i] == worker)
                return i;
        throw new InvalidOperationException($"Worker {worker} is not among the members {string.Join(", ", members)}.");
    }
}
