using NeuralBasics.Components;

namespace NeuralBasics.Losses;

/// <summary>
/// Per-class weights for a loss: <c>L = (1/N) Σ_i w_{y_i}·L_i</c>, as if every sample of class c
/// were counted w_c times. Use them to make rare classes count more (for example
/// <c>w_c = N / (C·N_c)</c>). The gradient of sample i is scaled by the same w_{y_i}.
/// </summary>
internal static class ClassWeights
{
    /// <summary>A validated copy, or null for "every weight 1".</summary>
    /// <exception cref="ArgumentException">A weight is negative or not finite, or there are fewer than 2.</exception>
    public static double[]? Validate(IReadOnlyList<double>? weights)
    {
        if (weights is null)
            return null;
        if (weights.Count < 2)
            throw new ArgumentException($"Class weights need one weight per class (at least 2), not {weights.Count}.", nameof(weights));
        for (int c = 0; c < weights.Count; c++)
            if (!(weights[c] >= 0) || !double.IsFinite(weights[c]))
                throw new ArgumentOutOfRangeException(nameof(weights), weights[c], $"The weight of class {c} must be finite and non-negative.");
        return [.. weights];
    }

    /// <summary>Checks that there is one weight per class of the scores.</summary>
    public static void CheckCount(double[]? weights, int classCount)
    {
        if (weights is not null && weights.Length != classCount)
            throw new ArgumentException($"The loss has {weights.Length} class weights but the scores have {classCount} classes.", "scores");
    }

    /// <summary>Writes the weights as <c>class_weights</c>, when there are any.</summary>
    public static void Describe(ComponentDescription description, double[]? weights)
    {
        if (weights is not null)
            description.Set("class_weights", weights);
    }

    /// <summary>The weights a description holds, or null.</summary>
    public static double[]? Read(ComponentDescription description) =>
        description.Has("class_weights") ? description.Numbers("class_weights") : null;

    public static string Describe(double[]? weights) =>
        weights is null ? "" : $", class weights [{string.Join(", ", weights)}]";
}
