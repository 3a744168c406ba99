using System.Numerics;

namespace NeuralBasics.Orleans;

/// <summary>A parameter server's state as grain storage holds it (see <see cref="Training.Distributed.ParameterServerSnapshot{T}"/>).</summary>
[GenerateSerializer, Alias("NeuralBasics.ParameterServerState`1")]
public sealed class ParameterServerState<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Updates applied.</summary>
    [Id(0)] public long Version { get; set; }

    /// <summary>The parameters; null before the first <see cref="IParameterServerGrain{T}.Initialize"/>.</summary>
    [Id(1)] public T[][]? Parameters { get; set; }

    /// <summary>Each tensor's update-rule step count.</summary>
    [Id(2)] public long[] Steps { get; set; } = [];

    /// <summary>Each tensor's update-rule arrays.</summary>
    [Id(3)] public T[][][] StateBuffers { get; set; } = [];

    /// <summary>Each worker's next expected push.</summary>
    [Id(4)] public Dictionary<int, long> NextSequence { get; set; } = [];

    /// <summary>Each worker's incarnation, where not 0.</summary>
    [Id(5)] public Dictionary<int, long> Incarnations { get; set; } = [];
}
