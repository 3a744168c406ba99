using System.Numerics;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Orleans;

/// <summary>A synchronous all-reduce as an Orleans grain, keyed by the run's name.</summary>
/// <typeparam name="T">The element type.</typeparam>
[Alias("NeuralBasics.IAllReduceGrain`1")]
public interface IAllReduceGrain<T> : IGrainWithStringKey
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Fixes the number of workers (the first call wins; a different number later is an error); returns it.</summary>
    [Alias("Initialize")]
    Task<int> Initialize(int workerCount);

    /// <summary>
    /// Fixes the number of workers and the round deadline in milliseconds (0: none) as <see cref="Initialize(int)"/>
    /// does; a round still waiting that long after its first contribution completes without the
    /// workers missing, which are dropped for the rest of the run.
    /// </summary>
    [Alias("InitializeWithDeadline")]
    Task<int> Initialize(int workerCount, int roundDeadlineMilliseconds);

    /// <summary>The workers still taking part, in id order.</summary>
    [Alias("Members")]
    Task<int[]> Members();

    /// <summary>One contribution; completes when every worker has contributed to the round (see <see cref="AllReduceCore{T}"/>).</summary>
    [Alias("Contribute")]
    Task<AllReduceAnswer> Contribute(MessageStamp stamp, int rows, PackedTensors gradients);
}
