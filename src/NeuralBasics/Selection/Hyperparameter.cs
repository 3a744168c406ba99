using System.Globalization;

namespace NeuralBasics.Selection;

/// <summary>One searched hyperparameter: its name and the values it may take.</summary>
public sealed record Hyperparameter
{
    private Hyperparameter(string name, HyperparameterScale scale, double low, double high, double[] choices)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        Scale = scale;
        Low = low;
        High = high;
        Choices = choices;
    }

    /// <summary>The name a trial's value is read by.</summary>
    public string Name { get; }

    /// <summary>How values are spread.</summary>
    public HyperparameterScale Scale { get; }

    /// <summary>The smallest value (ranges).</summary>
    public double Low { get; }

    /// <summary>The largest value (ranges).</summary>
    public double High { get; }

    /// <summary>The values of a choice.</summary>
    public IReadOnlyList<double> Choices { get; }

    /// <summary>Log-uniform in [low, high], as learning rates and λ are searched: each decade equally likely.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The bounds are not positive, finite and ordered.</exception>
    public static Hyperparameter LogUniform(string name, double low, double high)
    {
        if (!(low > 0 && high >= low && double.IsFinite(high)))
            throw new ArgumentOutOfRangeException(nameof(low), $"A log-uniform range needs 0 < low ≤ high < ∞; got [{low}, {high}].");
        return new(name, HyperparameterScale.Log, low, high, []);
    }

    /// <summary>Uniform in [low, high] (the momentum μ in [0.5, 0.99], say).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The bounds are not finite and ordered.</exception>
    public static Hyperparameter Uniform(string name, double low, double high)
    {
        if (!(double.IsFinite(low) && double.IsFinite(high) && high >= low))
            throw new ArgumentOutOfRangeException(nameof(low), $"A uniform range needs finite low ≤ high; got [{low}, {high}].");
        return new(name, HyperparameterScale.Linear, low, high, []);
    }

    /// <summary>One of the given values, each equally likely.</summary>
    /// <exception cref="ArgumentException">No values, or one is not finite.</exception>
    public static Hyperparameter Choice(string name, params double[] values)
    {
        if (values is null || values.Length == 0 || !values.All(double.IsFinite))
            throw new ArgumentException("A choice needs at least one value, all finite.", nameof(values));
        return new(name, HyperparameterScale.Choice, values.Min(), values.Max(), [.. values]);
    }

    /// <summary>A random value (random search).</summary>
    internal double Sample(Random random) => Scale switch
    {
        HyperparameterScale.Log => Math.Exp(Math.Log(Low) + random.NextDouble() * (Math.Log(High) - Math.Log(Low))),
        HyperparameterScale.Linear => Low + random.NextDouble() * (High - Low),
        _ => Choices[random.Next(Choices.Count)],
    };

    /// <summary>The grid's values: the choices, or <paramref name="points"/> evenly spaced (in log for a log scale) from low to high.</summary>
    internal double[] Grid(int points) => Scale switch
    {
        HyperparameterScale.Choice => [.. Choices],
        _ when points == 1 || Low == High => [Low],
        HyperparameterScale.Log => [.. Enumerable.Range(0, points).Select(i => Math.Exp(Math.Log(Low) + i * (Math.Log(High) - Math.Log(Low)) / (points - 1)))],
        _ => [.. Enumerable.Range(0, points).Select(i => Low + i * (High - Low) / (points - 1))],
    };

    /// <inheritdoc/>
    public override string ToString() => Scale == HyperparameterScale.Choice
        ? $"{Name} ∈ {{{string.Join(", ", Choices.Select(c => c.ToString(CultureInfo.InvariantCulture)))}}}"
        : string.Create(CultureInfo.InvariantCulture, $"{Name} ∈ [{Low}, {High}]{(Scale == HyperparameterScale.Log ? " (log)" : "")}");
}
