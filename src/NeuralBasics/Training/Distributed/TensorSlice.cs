namespace NeuralBasics.Training.Distributed;

/// <summary>A contiguous part of one tensor: what a shard of a <see cref="ShardedParameterServer{T}"/> holds, one or more of them.</summary>
/// <param name="Tensor">The tensor's index in the model's parameter list.</param>
/// <param name="Start">The first element.</param>
/// <param name="Length">The number of elements.</param>
public readonly record struct TensorSlice(int Tensor, int Start, int Length);
