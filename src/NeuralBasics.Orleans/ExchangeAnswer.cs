using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Orleans;

/// <summary>An elastic exchange's answer: what happened and the worker's new parameters.</summary>
/// <param name="Reply">The status and the center's version.</param>
/// <param name="Parameters">The worker's parameters after the exchange (empty when it was outdated).</param>
[GenerateSerializer, Alias("NeuralBasics.ExchangeAnswer"), Immutable]
public sealed record ExchangeAnswer([property: Id(0)] ExchangeReply Reply, [property: Id(1)] PackedTensors Parameters);
