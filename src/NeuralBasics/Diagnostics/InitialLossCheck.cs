namespace NeuralBasics.Diagnostics;

/// <summary>
/// CS231n's first sanity check: with small weights every class scores about the same, so the data
/// loss should start near its chance value — ln C for softmax cross-entropy, (C − 1)·Δ for the
/// multiclass hinge, (C − 1)·Δ² for the squared hinge. A start far from it points at the data, the
/// labels or the initialization before any training time is spent.
/// </summary>
/// <param name="Loss">The mean data loss of the untrained model on the rows checked.</param>
/// <param name="Expected">The chance value for the loss and class count.</param>
/// <param name="Rows">The rows the loss was measured on.</param>
public sealed record InitialLossCheck(double Loss, double Expected, int Rows)
{
    /// <summary>Within 25% of the chance value.</summary>
    public bool NearChance => Math.Abs(Loss - Expected) <= 0.25 * Expected;

    /// <summary>One line for a log.</summary>
    public override string ToString() =>
        $"initial data loss {Loss:F4} on {Rows} rows, chance {Expected:F4}" + (NearChance ? " (as expected)" : " — far from chance: check the data, labels and initialization");
}
