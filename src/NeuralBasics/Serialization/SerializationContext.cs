namespace NeuralBasics.Serialization;

/// <summary>Source-generated JSON metadata (no reflection, trimming-safe).</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
internal sealed partial class SerializationContext : System.Text.Json.Serialization.JsonSerializerContext;
