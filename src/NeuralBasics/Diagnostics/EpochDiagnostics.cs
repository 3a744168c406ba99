namespace NeuralBasics.Diagnostics;

/// <summary>
/// CS231n's "babysitting" figures after an epoch (<c>TrainerOptions.Diagnose</c>).
/// </summary>
/// <param name="UpdateRatios">
/// Per parameter tensor, ‖ΔW‖ / ‖W‖ of the epoch's last step: about 1e-3 is healthy; far below,
/// the learning rate is too small; far above, too large.
/// </param>
/// <param name="DeadReluFractions">
/// Per ReLU layer of a network (by layer index), the fraction of its units that output 0 for
/// every one of the rows checked (the epoch's first 1,024 training rows): dead units no longer learn.
/// </param>
public sealed record EpochDiagnostics(IReadOnlyDictionary<string, double> UpdateRatios, IReadOnlyDictionary<int, double> DeadReluFractions)
{
    /// <summary>One line for a log.</summary>
    public override string ToString() =>
        "update/weight " + string.Join(", ", UpdateRatios.Select(r => $"{r.Key} {r.Value:E1}")) +
        (DeadReluFractions.Count > 0 ? "; dead ReLU " + string.Join(", ", DeadReluFractions.Select(d => $"layer {d.Key} {d.Value:P1}")) : "");
}
