using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Orleans;

/// <summary>Converts <see cref="ExchangeReply"/> for Orleans' serializer.</summary>
[RegisterConverter]
public sealed class ExchangeReplyConverter : IConverter<ExchangeReply, ExchangeReplySurrogate>
{
    /// <inheritdoc/>
    public ExchangeReply ConvertFromSurrogate(in ExchangeReplySurrogate surrogate) => new(surrogate.Status, surrogate.Version, surrogate.Staleness);

    /// <inheritdoc/>
    public ExchangeReplySurrogate ConvertToSurrogate(in ExchangeReply value) =>
        new() { Status = value.Status, Version = value.Version, Staleness = value.Staleness };
}
