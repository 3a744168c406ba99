using System.Numerics;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Orleans;

/// <summary>Parameters (or a center) with their version, as a grain returns them.</summary>
/// <param name="Version">The version.</param>
/// <param name="Tensors">One array per tensor.</param>
[GenerateSerializer, Alias("NeuralBasics.VersionedTensors`1"), Immutable]
public sealed record VersionedTensors<T>([property: Id(0)] long Version, [property: Id(1)] T[][] Tensors)
    where T : unmanaged, IFloatingPointIeee754<T>;
