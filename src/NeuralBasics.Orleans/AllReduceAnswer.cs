namespace NeuralBasics.Orleans;

/// <summary>An all-reduce round's answer: the sum over workers and its rows.</summary>
/// <param name="Rows">The rows of all contributions.</param>
/// <param name="Sum">One array per tensor.</param>
[GenerateSerializer, Alias("NeuralBasics.AllReduceAnswer"), Immutable]
public sealed record AllReduceAnswer([property: Id(0)] int Rows, [property: Id(1)] PackedTensors Sum);
