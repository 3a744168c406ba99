using System.Numerics;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Orleans;

/// <summary>An elastic exchange's answer: what happened and the worker's new parameters.</summary>
/// <param name="Reply">The status and the center's version.</param>
/// <param name="Parameters">The worker's parameters after the exchange (empty when it was outdated).</param>
[GenerateSerializer, Alias("NeuralBasics.ExchangeAnswer`1"), Immutable]
public sealed record ExchangeAnswer<T>([property: Id(0)] ExchangeReply Reply, [property: Id(1)] T[][] Parameters)
    where T : unmanaged, IFloatingPointIeee754<T>;
