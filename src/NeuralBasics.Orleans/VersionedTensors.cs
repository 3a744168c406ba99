namespace NeuralBasics.Orleans;

/// <summary>Parameters (or a center) with their version, as a grain returns them.</summary>
/// <param name="Version">The version.</param>
/// <param name="Tensors">One array per tensor.</param>
[GenerateSerializer, Alias("NeuralBasics.VersionedTensors"), Immutable]
public sealed record VersionedTensors([property: Id(0)] long Version, [property: Id(1)] PackedTensors Tensors);
