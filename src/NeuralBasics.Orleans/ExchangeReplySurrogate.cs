using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Orleans;

/// <summary>How an <see cref="ExchangeReply"/> crosses the wire.</summary>
[GenerateSerializer, Alias("NeuralBasics.ExchangeReply")]
public struct ExchangeReplySurrogate
{
    /// <summary>The status.</summary>
    [Id(0)] public ExchangeStatus Status;

    /// <summary>The version.</summary>
    [Id(1)] public long Version;

    /// <summary>The staleness.</summary>
    [Id(2)] public long Staleness;
}
