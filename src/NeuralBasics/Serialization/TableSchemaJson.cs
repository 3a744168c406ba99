using System.Text.Json.Nodes;
using NeuralBasics.Tables;

namespace NeuralBasics.Serialization;

/// <summary>A <see cref="TableSchema"/> as the JSON object a model file holds: its label, classes and column encodings.</summary>
internal static class TableSchemaJson
{
    /// <summary>The schema as saved inside a model file.</summary>
    internal static JsonObject Describe(TableSchema schema)
    {
        var json = new JsonObject
        {
            ["label"] = schema.LabelColumn,
            ["classes"] = new JsonArray([.. schema.ClassNames.Select(n => (JsonNode)n)]),
        };
        json["columns"] = new JsonArray([.. schema.Encodings.Select(e => (JsonNode)ComponentRegistry.Describe(e))]);
        return json;
    }

    /// <summary>Reads a schema saved by <see cref="Describe"/>, refusing anything malformed.</summary>
    /// <exception cref="InvalidDataException">The description is malformed or inconsistent.</exception>
    internal static TableSchema Read(JsonObject json)
    {
        string label = json["label"] is JsonValue l && l.TryGetValue(out string? text) ? text : throw new InvalidDataException("The table schema lacks its label column.");
        var classes = json["classes"] is JsonArray c ? c.Select(n => n is JsonValue v && v.TryGetValue(out string? name) ? name
            : throw new InvalidDataException("The table schema's classes should be texts.")).ToArray()
            : throw new InvalidDataException("The table schema lacks its classes.");
        var columns = json["columns"] as JsonArray ?? throw new InvalidDataException("The table schema lacks its columns.");
        var encodings = columns.Select(node => ComponentRegistry.Read<IColumnEncoding>(
            node as JsonObject ?? throw new InvalidDataException("A table schema column should be a JSON object."))).ToList();
        try
        {
            return new TableSchema(label, classes, encodings);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"The table schema is inconsistent: {e.Message}", e);
        }
    }
}
