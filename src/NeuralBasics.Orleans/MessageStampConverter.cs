using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Orleans;

/// <summary>Converts <see cref="MessageStamp"/> for Orleans' serializer.</summary>
[RegisterConverter]
public sealed class MessageStampConverter : IConverter<MessageStamp, MessageStampSurrogate>
{
    /// <inheritdoc/>
    public MessageStamp ConvertFromSurrogate(in MessageStampSurrogate surrogate) => new(surrogate.Worker, surrogate.Sequence, surrogate.Incarnation);

    /// <inheritdoc/>
    public MessageStampSurrogate ConvertToSurrogate(in MessageStamp value) => new() { Worker = value.Worker, Sequence = value.Sequence, Incarnation = value.Incarnation };
}
