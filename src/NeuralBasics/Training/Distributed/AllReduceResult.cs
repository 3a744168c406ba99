using System.Numerics;

namespace NeuralBasics.Training.Distributed;

/// <summary>One all-reduce round's outcome: the gradients summed over workers in worker-id order, and the rows they cover.</summary>
/// <param name="Sum">One array per tensor (shared by every worker's reply: do not change it).</param>
/// <param name="Rows">The rows of all contributions together; 0 when every worker had none.</param>
/// <param name="Contributors">The workers whose contributions the sum holds, in id order (all members, unless the round passed its deadline without some).</param>
public sealed record AllReduceResult<T>(IReadOnlyList<T[]> Sum, int Rows, IReadOnlyList<int> Contributors)
    where T : unmanaged, IFloatingPointIeee754<T>;
