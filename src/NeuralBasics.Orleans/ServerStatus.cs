namespace NeuralBasics.Orleans;

/// <summary>Where a server grain stands.</summary>
/// <param name="Version">Updates applied.</param>
/// <param name="PersistedVersion">The version of the state last written to grain storage.</param>
/// <param name="RejectedPushes">Pushes rejected as stale since the grain was activated.</param>
/// <param name="Silo">The silo the grain runs on.</param>
[GenerateSerializer, Alias("NeuralBasics.ServerStatus"), Immutable]
public sealed record ServerStatus([property: Id(0)] long Version, [property: Id(1)] long PersistedVersion,
    [property: Id(2)] long RejectedPushes, [property: Id(3)] string Silo);
