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
/// <param name="Incarnations">Each worker's current <see cref="MessageStamp.Incarnation"/> (a worker missing here is at 0).</param>
public sealed record ParameterServerSnapshot<T>(long Version, T[][] Parameters, long[] Steps, T[][][] StateBuffers, IReadOnlyDictionary<int, long> NextSequence,
    IReadOnlyDictionary<int, long>? Incarnations = null)
    where T : unmanaged, IFloatingPointIeee754<T>;
