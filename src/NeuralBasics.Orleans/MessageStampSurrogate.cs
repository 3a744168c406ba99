using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Orleans;

/// <summary>How a <see cref="MessageStamp"/> crosses the wire.</summary>
[GenerateSerializer, Alias("NeuralBasics.MessageStamp")]
public struct MessageStampSurrogate
{
    /// <summary>The worker id.</summary>
    [Id(0)] public int Worker;

    /// <summary>The sequence number.</summary>
    [Id(1)] public long Sequence;

    /// <summary>Which start of the worker sent it.</summary>
    [Id(2)] public long Incarnation;
}
