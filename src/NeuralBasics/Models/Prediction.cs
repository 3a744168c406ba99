using System.Globalization;

namespace NeuralBasics.Models;

/// <summary>What a model says about one record: the class, its name, and the scores (and probabilities, when the model gives them) of every class.</summary>
public sealed class Prediction
{
    internal Prediction(int @class, string? className, double[] scores, double[]? probabilities)
    {
        Class = @class;
        ClassName = className;
        Scores = scores;
        Probabilities = probabilities;
    }

    /// <summary>The predicted class index: the highest score's.</summary>
    public int Class { get; }

    /// <summary>The predicted class's name, when the model has class names.</summary>
    public string? ClassName { get; }

    /// <summary>Every class's score.</summary>
    public IReadOnlyList<double> Scores { get; }

    /// <summary>Every class's probability (softmax of the scores), or null when the model was not trained with softmax cross-entropy.</summary>
    public IReadOnlyList<double>? Probabilities { get; }

    /// <summary>The class (by name when known) and its probability.</summary>
    public override string ToString() =>
        (ClassName ?? Class.ToString(CultureInfo.InvariantCulture)) +
        (Probabilities is { } p ? string.Create(CultureInfo.InvariantCulture, $" (p = {p[Class]:F3})") : "");
}
