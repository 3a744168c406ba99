namespace NeuralBasics.Optimizers;

/// <summary>Where <see cref="Adamax"/> adds ε.</summary>
public enum AdamaxEpsilon
{
    /// <summary>To the denominator, <c>m/(u + ε)</c> with <c>u = max(β2·u, |g|)</c> (Keras; the default).</summary>
    Denominator,

    /// <summary>Inside the maximum, <c>u = max(β2·u, |g| + ε)</c>, then <c>m/u</c> (PyTorch).</summary>
    InsideMax,
}
