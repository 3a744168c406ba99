using System.Globalization;

namespace NeuralBasics.Selection;

/// <summary>One configuration of a search: its number, its own seed, and a value per hyperparameter.</summary>
/// <param name="Number">The trial's number, from 0, in the order the search generated it.</param>
/// <param name="Seed">The seed derived for this trial (use it for the network's initialization and the trainer's shuffling).</param>
/// <param name="Values">The hyperparameters' values by name.</param>
public sealed record Trial(int Number, int Seed, IReadOnlyDictionary<string, double> Values)
{
    /// <summary>The value of <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No hyperparameter has that name.</exception>
    public double this[string name] => Values.TryGetValue(name, out double value)
        ? value
        : throw new KeyNotFoundException($"The search has no hyperparameter named \"{name}\"; it has {string.Join(", ", Values.Keys)}.");

    /// <inheritdoc/>
    public override string ToString() => string.Join(", ", Values.Select(v => string.Create(CultureInfo.InvariantCulture, $"{v.Key} = {v.Value:G4}")));
}
