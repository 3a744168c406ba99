using System.Runtime.CompilerServices;

namespace NeuralBasics;

/// <summary>
/// The argument checks the public API repeats: each throws an
/// <see cref="ArgumentOutOfRangeException"/> that names the parameter and its value, and says
/// what was expected, or returns the value unchanged.
/// </summary>
internal static class Guard
{
    /// <summary><paramref name="value"/> &gt; 0 and finite.</summary>
    public static double PositiveFinite(double value, string what, [CallerArgumentExpression(nameof(value))] string? name = null) =>
        value > 0 && double.IsFinite(value) ? value
            : throw new ArgumentOutOfRangeException(name, value, $"{what} must be positive and finite.");

    /// <summary><paramref name="value"/> ≥ 0 and finite.</summary>
    public static double NonNegativeFinite(double value, string what, [CallerArgumentExpression(nameof(value))] string? name = null) =>
        value >= 0 && double.IsFinite(value) ? value
            : throw new ArgumentOutOfRangeException(name, value, $"{what} must be finite and non-negative.");

    /// <summary><paramref name="value"/> in [0, 1): a decay rate or momentum coefficient.</summary>
    public static double DecayRate(double value, string what, [CallerArgumentExpression(nameof(value))] string? name = null) =>
        value >= 0 && value < 1 ? value
            : throw new ArgumentOutOfRangeException(name, value, $"{what} must be in [0, 1).");

    /// <summary><paramref name="value"/> ≥ <paramref name="minimum"/>.</summary>
    public static int AtLeast(int value, int minimum, string what, [CallerArgumentExpression(nameof(value))] string? name = null) =>
        value >= minimum ? value
            : throw new ArgumentOutOfRangeException(name, value, $"{what} must be at least {minimum}.");

    /// <summary>A classifier's class count: at least 2.</summary>
    public static int ClassCount(int value, [CallerArgumentExpression(nameof(value))] string? name = null) =>
        value >= 2 ? value
            : throw new ArgumentOutOfRangeException(name, value, "A classifier needs at least 2 classes.");

    /// <summary>Every label in [0, <paramref name="classCount"/>).</summary>
    public static void LabelsInRange(ReadOnlySpan<int> labels, int classCount, [CallerArgumentExpression(nameof(labels))] string? name = null)
    {
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)classCount)
                throw new ArgumentOutOfRangeException(name, labels[i], $"Label {labels[i]} of sample {i} is outside [0, {classCount}).");
    }
}
