namespace NeuralBasics.Training.Distributed;

/// <summary>Which message of a <see cref="RingAllReduce{T}"/> or <see cref="ScatterAllReduce{T}"/> round this is: the round, the phase (0 reduce, 1 gather) and the chunk.</summary>
/// <param name="Round">The round (the contributors' <see cref="MessageStamp.Sequence"/>).</param>
/// <param name="Phase">0 while a chunk is being summed, 1 while its sum is passed to all; 2a and 2a + 1 in attempt a at a round that missed its deadline (<see cref="IRoundReferee"/>).</param>
/// <param name="Chunk">The ring's chunk of the flattened gradients; in <see cref="ScatterAllReduce{T}"/> the worker that sent the message (phase 0: the part of the receiver's chunk; phase 1: the sender's finished chunk).</param>
public readonly record struct RingKey(long Round, int Phase, int Chunk);
