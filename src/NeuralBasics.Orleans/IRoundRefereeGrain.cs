using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Orleans;

/// <summary>
/// The round referee of a peer all-reduce (<see cref="RingAllReduce{T}"/>,
/// <see cref="ScatterAllReduce{T}"/>) with a round deadline, as an Orleans grain keyed by the run's
/// name: a <see cref="RoundRefereeCore"/>. It carries no tensors.
/// </summary>
[Alias("NeuralBasics.IRoundRefereeGrain")]
public interface IRoundRefereeGrain : IGrainWithStringKey
{
    /// <summary>
    /// Fixes the number of workers and how long an attempt waits for reports after its first, in
    /// milliseconds (the first call wins; other values later are an error); returns the worker count.
    /// </summary>
    [Alias("Initialize")]
    Task<int> Initialize(int workerCount, int decisionDeadlineMilliseconds);

    /// <summary>One worker's report on an attempt at a round; completes with the decision (see <see cref="RoundRefereeCore"/>).</summary>
    [Alias("Report")]
    Task<RefereeAnswer> Report(MessageStamp stamp, int attempt, bool completed);

    /// <summary>The workers still taking part, in id order.</summary>
    [Alias("Members")]
    Task<int[]> Members();
}
