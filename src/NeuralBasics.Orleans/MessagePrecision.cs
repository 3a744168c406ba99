namespace NeuralBasics.Orleans;

/// <summary>How the values in a message between a worker and a grain are sent.</summary>
public enum MessagePrecision
{
    /// <summary>As the model holds them (float or double): nothing is lost.</summary>
    Full,

    /// <summary>
    /// bfloat16: float's 8 exponent bits and 7 of its mantissa bits, rounded to nearest even (relative
    /// error at most 2⁻⁸). Half a float's bytes, a quarter of a double's, and float's range, so no
    /// gradient overflows.
    /// </summary>
    BFloat16,

    /// <summary>IEEE half (<see cref="System.Half"/>): 10 mantissa bits (relative error at most 2⁻¹¹) but a range of ±65,504 — a larger value is refused when packed.</summary>
    Half,
}
