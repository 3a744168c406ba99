namespace NeuralBasics.Training.Distributed;

/// <summary>
/// The referee of a peer all-reduce with a round deadline (<see cref="RingAllReduce{T}"/>,
/// <see cref="ScatterAllReduce{T}"/>): the workers move the gradients among themselves, then each
/// says whether it got the whole sum, and the referee decides once for all of them whether they
/// apply it or try the round again without those that went silent (see <see cref="RoundRefereeCore"/>).
/// It carries no tensors: one small message each way per worker and round.
/// </summary>
public interface IRoundReferee
{
    /// <summary>
    /// Reports that worker <see cref="MessageStamp.Worker"/> ended attempt <paramref name="attempt"/>
    /// at round <see cref="MessageStamp.Sequence"/> with the sum (<paramref name="completed"/>) or
    /// without it (its exchange passed the deadline); completes with the decision, the same for every
    /// worker. A repeated report gets the same decision.
    /// </summary>
    /// <exception cref="InvalidOperationException">The worker was dropped from the run.</exception>
    ValueTask<RoundDecision> ReportAsync(MessageStamp stamp, int attempt, bool completed, CancellationToken cancellationToken = default);
}
