namespace NeuralBasics.Orleans;

/// <summary>One message of a ring all-reduce: a chunk of partial or finished sums, and the rows they cover so far.</summary>
/// <param name="Rows">The rows counted so far (carried with chunk 0; 0 for the others).</param>
/// <param name="Values">The chunk, as one packed tensor.</param>
[GenerateSerializer, Alias("NeuralBasics.RingDelivery"), Immutable]
public sealed record RingDelivery([property: Id(0)] int Rows, [property: Id(1)] PackedTensors Values);
