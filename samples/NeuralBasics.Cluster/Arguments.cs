using System.Globalization;

namespace NeuralBasics.Cluster;

/// <summary>Command-line options of the form <c>--name value</c>.</summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, string> _values;

    private Arguments(Dictionary<string, string> values) => _values = values;

    public static Arguments Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new ArgumentException($"Expected --name value, found \"{args[i]}\".");
            values[args[i][2..]] = args[i + 1];
        }
        return new Arguments(values);
    }

    public string? Text(string name) => _values.GetValueOrDefault(name);

    public string Required(string name) =>
        _values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"--{name} is required.");

    public int Number(string name, int? fallback = null)
    {
        if (!_values.TryGetValue(name, out var text))
            return fallback ?? throw new ArgumentException($"--{name} is required.");
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new ArgumentException($"--{name} must be a whole number, not \"{text}\".");
    }
}
