using System.Numerics;

namespace NeuralBasics.Orleans;

/// <summary>A center variable's state as grain storage holds it.</summary>
[GenerateSerializer, Alias("NeuralBasics.CenterVariableState`1")]
public sealed class CenterVariableState<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Exchanges applied.</summary>
    [Id(0)] public long Version { get; set; }

    /// <summary>The center; null before the first <see cref="ICenterVariableGrain{T}.Initialize"/>.</summary>
    [Id(1)] public T[][]? Center { get; set; }

    /// <summary>Each worker's last applied exchange.</summary>
    [Id(2)] public Dictionary<int, long> LastSequence { get; set; } = [];

    /// <summary>Each worker's incarnation, where not 0.</summary>
    [Id(3)] public Dictionary<int, long> Incarnations { get; set; } = [];
}
