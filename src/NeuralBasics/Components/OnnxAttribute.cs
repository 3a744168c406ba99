namespace NeuralBasics.Components;

/// <summary>An attribute of an ONNX node: a name and one integer, float, list of integers or list of strings.</summary>
public sealed class OnnxAttribute
{
    private OnnxAttribute(string name, long? integer, float? real, IReadOnlyList<long>? integers, IReadOnlyList<string>? texts = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        Integer = integer;
        Float = real;
        Integers = integers;
        Texts = texts;
    }

    /// <summary>The attribute's name (<c>axis</c>, <c>alpha</c>).</summary>
    public string Name { get; }

    /// <summary>Its value when it is one integer.</summary>
    public long? Integer { get; }

    /// <summary>Its value when it is one float.</summary>
    public float? Float { get; }

    /// <summary>Its value when it is a list of integers.</summary>
    public IReadOnlyList<long>? Integers { get; }

    /// <summary>Its value when it is a list of strings.</summary>
    public IReadOnlyList<string>? Texts { get; }

    /// <summary>An integer attribute (ONNX <c>INT</c>).</summary>
    public static OnnxAttribute Int(string name, long value) => new(name, value, null, null);

    /// <summary>A float attribute (ONNX <c>FLOAT</c>).</summary>
    public static OnnxAttribute Real(string name, float value) => new(name, null, value, null);

    /// <summary>A list-of-integers attribute (ONNX <c>INTS</c>).</summary>
    public static OnnxAttribute Ints(string name, params long[] values) => new(name, null, null, [.. values]);

    /// <summary>A list-of-strings attribute (ONNX <c>STRINGS</c>).</summary>
    public static OnnxAttribute Strings(string name, params string[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return new(name, null, null, null, [.. values]);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Name} = {(object?)Integer ?? (object?)Float ?? (Integers is not null ? string.Join(", ", Integers) : string.Join(", ", Texts!))}";
}
