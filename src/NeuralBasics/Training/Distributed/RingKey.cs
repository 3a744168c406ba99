namespace NeuralBasics.Training.Distributed;

/// <summary>Which message of a <see cref="RingAllReduce{T}"/> round this is: the round, the phase (0 reduce, 1 gather) and the chunk.</summary>
/// <param name="Round">The round (the contributors' <see cref="MessageStamp.Sequence"/>).</param>
/// <param name="Phase">0 while the chunk is being summed along the workers, 1 while its sum is passed round to all.</param>
/// <param name="Chunk">The chunk of the flattened gradients.</param>
public readonly record struct RingKey(long Round, int Phase, int Chunk);
