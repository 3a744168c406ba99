using System.Globalization;
using System.Text.Json.Nodes;

namespace NeuralBasics.Components;

/// <summary>
/// The saved form of one component: its kind and hyperparameters as a JSON object inside the model
/// or checkpoint file. A component writes it with the <c>Set</c> methods
/// (<see cref="IDescribedComponent.Describe"/>); its reader reads it back with <see cref="Int"/>,
/// <see cref="Number"/>, <see cref="Text"/>, <see cref="ReadComponent"/> and the rest, each of which refuses a missing or
/// mistyped value with an <see cref="InvalidDataException"/> naming the key, so a damaged or
/// hostile file is reported, never half-read.
/// </summary>
public sealed class ComponentDescription
{
    private readonly ComponentContext _context;
    private readonly string _kindKey;

    internal ComponentDescription(JsonObject json, string kindKey, ComponentContext context)
    {
        Json = json;
        _kindKey = kindKey;
        _context = context;
    }

    /// <summary>The JSON object as written to the file.</summary>
    internal JsonObject Json { get; }

    /// <summary>The component's kind, as its <see cref="IDescribedComponent.Kind"/> wrote it.</summary>
    /// <exception cref="InvalidDataException">The description has no kind.</exception>
    public string Kind => Get<string>(_kindKey);

    /// <summary>Writes <paramref name="value"/> under <paramref name="key"/>.</summary>
    public void Set(string key, int value) => Json[Key(key)] = value;

    /// <inheritdoc cref="Set(string, int)"/>
    public void Set(string key, long value) => Json[Key(key)] = value;

    /// <inheritdoc cref="Set(string, int)"/>
    public void Set(string key, double value) => Json[Key(key)] = value;

    /// <inheritdoc cref="Set(string, int)"/>
    public void Set(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        Json[Key(key)] = value;
    }

    /// <inheritdoc cref="Set(string, int)"/>
    public void Set(string key, bool value) => Json[Key(key)] = value;

    /// <inheritdoc cref="Set(string, int)"/>
    public void Set(string key, IReadOnlyList<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        Json[Key(key)] = new JsonArray([.. values.Select(v => (JsonNode)(v ?? throw new ArgumentException($"'{key}' holds a null text.", nameof(values))))]);
    }

    /// <inheritdoc cref="Set(string, int)"/>
    public void Set(string key, IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        Json[Key(key)] = new JsonArray([.. values.Select(v => (JsonNode)v)]);
    }

    /// <summary>Writes the nested <paramref name="component"/> (an activation layer's function, a wrapper's inner layer) under <paramref name="key"/>.</summary>
    /// <exception cref="NotSupportedException">The component does not describe itself (<see cref="IDescribedComponent"/>).</exception>
    public void SetComponent<TComponent>(string key, TComponent component)
        where TComponent : class => Json[Key(key)] = Write(component);

    /// <summary>Writes the nested <paramref name="components"/> in order under <paramref name="key"/>.</summary>
    /// <exception cref="NotSupportedException">One of them does not describe itself (<see cref="IDescribedComponent"/>).</exception>
    public void SetComponents<TComponent>(string key, IEnumerable<TComponent> components)
        where TComponent : class
    {
        ArgumentNullException.ThrowIfNull(components);
        Json[Key(key)] = new JsonArray([.. components.Select(c => (JsonNode)Write(c))]);
    }

    /// <summary>Whether the description holds <paramref name="key"/> (for optional values).</summary>
    public bool Has(string key) => Json[Key(key)] is not null;

    /// <summary>The whole number under <paramref name="key"/>, at least <paramref name="minimum"/>.</summary>
    /// <exception cref="InvalidDataException">It is missing, not a whole number, or below <paramref name="minimum"/>.</exception>
    public int Int(string key, int minimum = int.MinValue)
    {
        int value = Get<int>(key);
        return value >= minimum ? value : throw new InvalidDataException($"'{key}' is {value}; it must be at least {minimum}.");
    }

    /// <summary>A count under <paramref name="key"/>: a whole number of at least 1 (or <paramref name="minimum"/>).</summary>
    /// <exception cref="InvalidDataException">It is missing, not a whole number, or below <paramref name="minimum"/>.</exception>
    public int Count(string key, int minimum = 1) => Int(key, minimum);

    /// <summary>The finite number under <paramref name="key"/>.</summary>
    /// <exception cref="InvalidDataException">It is missing, not a number, or not finite.</exception>
    public double Number(string key)
    {
        double value = Get<double>(key);
        return double.IsFinite(value) ? value : throw new InvalidDataException($"'{key}' is {value}; it must be finite.");
    }

    /// <summary>The text under <paramref name="key"/>.</summary>
    /// <exception cref="InvalidDataException">It is missing or not text.</exception>
    public string Text(string key) => Get<string>(key);

    /// <summary>The true or false under <paramref name="key"/>.</summary>
    /// <exception cref="InvalidDataException">It is missing or not true or false.</exception>
    public bool Bool(string key) => Get<bool>(key);

    /// <summary>The array of texts under <paramref name="key"/>.</summary>
    /// <exception cref="InvalidDataException">It is missing, not an array, or holds something other than texts.</exception>
    public string[] Texts(string key) =>
        [.. Array(key).Select(node => node is JsonValue value && value.TryGetValue(out string? text)
            ? text
            : throw new InvalidDataException($"'{key}' should hold texts: {node?.ToJsonString() ?? "null"}."))];

    /// <summary>The array of numbers under <paramref name="key"/>.</summary>
    /// <exception cref="InvalidDataException">It is missing, not an array, or holds something other than numbers.</exception>
    public double[] Numbers(string key) =>
        [.. Array(key).Select(node => node is JsonValue value && value.TryGetValue(out double number)
            ? number
            : throw new InvalidDataException($"'{key}' should hold numbers: {node?.ToJsonString() ?? "null"}."))];

    /// <summary>Builds the nested component under <paramref name="key"/> with the reader registered for its kind.</summary>
    /// <exception cref="InvalidDataException">It is missing or malformed, or no reader is registered for its kind.</exception>
    public TComponent ReadComponent<TComponent>(string key)
        where TComponent : class => _context.Read<TComponent>(Nested<TComponent>(Required(key), key));

    /// <summary>Builds the nested components under <paramref name="key"/>, in order.</summary>
    /// <exception cref="InvalidDataException">They are missing or malformed, or no reader is registered for a kind.</exception>
    public IReadOnlyList<TComponent> ReadComponents<TComponent>(string key)
        where TComponent : class => [.. Descriptions<TComponent>(key).Select(_context.Read<TComponent>)];

    /// <summary>The descriptions of the nested <typeparamref name="TComponent"/>s under <paramref name="key"/>, unbuilt.</summary>
    /// <exception cref="InvalidDataException">It is missing or not an array of JSON objects.</exception>
    public IReadOnlyList<ComponentDescription> Descriptions<TComponent>(string key)
        where TComponent : class => [.. Array(key).Select(node => Nested<TComponent>(node, key))];

    /// <summary><paramref name="a"/> x <paramref name="b"/>, refused when an array could not hold that many elements.</summary>
    /// <exception cref="InvalidDataException">The product is more than <see cref="System.Array.MaxLength"/>.</exception>
    public static int Product(int a, int b, string what)
    {
        long product = (long)a * b;
        return product <= System.Array.MaxLength ? (int)product
            : throw new InvalidDataException($"{what} is {a} x {b} = {product}, more than an array can hold ({System.Array.MaxLength}).");
    }

    /// <summary>The description as JSON text.</summary>
    public override string ToString() => Json.ToJsonString();

    /// <summary>A new description of <paramref name="component"/>, kind first.</summary>
    internal static ComponentDescription Of<TComponent>(TComponent component, ComponentContext context)
        where TComponent : class
    {
        ArgumentNullException.ThrowIfNull(component);
        if (component is not IDescribedComponent described)
            throw new NotSupportedException(
                $"Saving {component} ({component.GetType().Name}) is not supported: it does not describe itself. Implement IDescribedComponent and register a reader for its kind with ComponentRegistry.");
        string kindKey = context.KindKey<TComponent>();
        var description = new ComponentDescription(new JsonObject { [kindKey] = described.Kind }, kindKey, context);
        described.Describe(description);
        return description;
    }

    private JsonObject Write<TComponent>(TComponent component)
        where TComponent : class => Of(component, _context).Json;

    private ComponentDescription Nested<TComponent>(JsonNode? node, string key)
        where TComponent : class =>
        new(node as JsonObject ?? throw new InvalidDataException($"'{key}' should hold a JSON object: {node?.ToJsonString() ?? "null"}."),
            _context.KindKey<TComponent>(), _context);

    private string Key(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return key == _kindKey ? throw new ArgumentException($"'{key}' holds the component's kind.", nameof(key)) : key;
    }

    private JsonNode Required(string key) =>
        Json[key] ?? throw new InvalidDataException($"The description of {Json[_kindKey]?.ToJsonString() ?? "a component"} lacks '{key}'.");

    private JsonArray Array(string key) =>
        Required(key) as JsonArray ?? throw new InvalidDataException($"'{key}' is not a JSON array.");

    private TValue Get<TValue>(string key)
    {
        try
        {
            return Required(key).GetValue<TValue>();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException(
                $"'{key}' should be a {typeof(TValue).Name.ToLower(CultureInfo.InvariantCulture)}: {Required(key).ToJsonString()}.", e);
        }
    }
}
