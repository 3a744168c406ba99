using System.Numerics;

namespace NeuralBasics.Training.Distributed;

/// <summary>
/// Everything a parameter server holds, copied out so it can be stored (for example in Orleans
/// grain storage) and restored after a failure: the parameters, the update rule's state per tensor,
/// the version, and the next expected push of every worker.
/// </summary>
/// <param name="Version">Updates applied so far.</param>
/// <param name="Parameters">The parameter tensors.</param>
/// <param name="Steps">Each tensor's update-rule step count.</param>
/// <param name="StateBuffers">Each tensor's update-rule arrays, in the order of <see cref="Optimizers.UpdateState.Buffers"/>.</param>
/// <param name="NextSequence">Each worker's next expected push sequence number.</param>
public sealed record ParameterServerSnapshot<T>(long Version, T[][] Parameters, long[] Steps, T[][][] StateBuffers, IReadOnlyDictionary<int, long> NextSequence)
    where T : unmanaged, IFloatingPointIeee754<T>;
