using System.Collections.Concurrent;
using System.Numerics;

namespace NeuralBasics.Training.Distributed;

/// <summary>
/// The rounds of a peer all-reduce (<see cref="RingAllReduce{T}"/>, <see cref="ScatterAllReduce{T}"/>):
/// without a referee, one exchange among all workers; with one, attempts until the referee commits
/// one — each exchange given the round deadline, each worker's own gradients restored before it tries
/// again, among the members the referee names (each worker keeps its view of them).
/// </summary>
internal sealed class RefereedRounds<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>One exchange: the sum's total rows, the sum written over the gradients.</summary>
    public delegate ValueTask<int> Exchange(MessageStamp stamp, int rows, IReadOnlyList<Memory<T>> gradients, IReadOnlyList<int> members, int attempt,
        CancellationToken cancellationToken);

    private readonly IReadOnlyList<int> _everyone;
    private readonly ConcurrentDictionary<int, IReadOnlyList<int>> _views = new();
    /// <summary>Each worker's own gradients, kept until the referee commits the round (reused round after round).</summary>
    private readonly ConcurrentDictionary<int, T[][]> _own = new();

    public RefereedRounds(int workerCount, IRoundReferee? referee, TimeSpan deadline)
    {
        if (referee is not null)
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(deadline, TimeSpan.Zero, nameof(deadline));
        _everyone = [.. Enumerable.Range(0, workerCount)];
        Referee = referee;
        Deadline = deadline;
    }

    public IRoundReferee? Referee { get; }

    public TimeSpan Deadline { get; }

    /// <summary>The workers <paramref name="worker"/> last heard take part.</summary>
    public IReadOnlyList<int> MembersSeenBy(int worker) => _views.GetValueOrDefault(worker, _everyone);

    public async ValueTask<int> RunAsync(MessageStamp stamp, int rows, IReadOnlyList<Memory<T>> gradients, Exchange exchange, CancellationToken cancellationToken)
    {
        if (Referee is null)
            return await exchange(stamp, rows, gradients, _everyone, 0, cancellationToken).ConfigureAwait(false);
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
                deadline.CancelAfter(Deadline);
                try
                {
                    total = await exchange(stamp, rows, gradients, members, attempt, deadline.Token).ConfigureAwait(false);
                    completed = true;
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    completed = false;
                }
            }
            var decision = await Referee.ReportAsync(stamp, attempt, completed, cancellationToken).ConfigureAwait(false);
            _views[stamp.Worker] = decision.Members;
            if (decision.Commit)
                return total;
            if (!decision.Members.Contains(stamp.Worker))
                throw new InvalidOperationException($"Worker {stamp.Worker} is not among the members of round {stamp.Sequence}'s next attempt.");
            for (int k = 0; k < own.Length; k++)
                own[k].CopyTo(gradients[k].Span);
        }
    }
}
