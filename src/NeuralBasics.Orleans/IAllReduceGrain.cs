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

    /// <summary>One contribution; completes when every worker has contributed to the round (see <see cref="AllReduceCore{T}"/>).</summary>
    [Alias("Contribute")]
    Task<AllReduceAnswer> Contribute(MessageStamp stamp, int rows, PackedTensors gradients);
}
