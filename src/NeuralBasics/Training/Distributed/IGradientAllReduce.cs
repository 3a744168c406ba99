using System.Numerics;

namespace NeuralBasics.Training.Distributed;

/// <summary>
/// The synchronous all-reduce of data-parallel training across processes: in each round every one
/// of a fixed set of workers contributes its gradients weighted by the rows it used, and each gets
/// back the sum over all workers, added in worker-id order so that every worker, and every run,
/// sees the same bits.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
public interface IGradientAllReduce<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>How many workers take part in every round.</summary>
    int WorkerCount { get; }

    /// <summary>
    /// Contributes <paramref name="gradients"/> (already multiplied by <paramref name="rows"/>) to
    /// round <see cref="MessageStamp.Sequence"/> and, when all workers have, overwrites them with the
    /// sum over workers; returns the total rows. A worker with no rows left this round passes 0 (its
    /// buffers count as zeros, and still receive the sum). A repeated contribution is counted once.
    /// </summary>
    ValueTask<int> AllReduceAsync(MessageStamp stamp, int rows, IReadOnlyList<Memory<T>> gradients, CancellationToken cancellationToken = default);
}
