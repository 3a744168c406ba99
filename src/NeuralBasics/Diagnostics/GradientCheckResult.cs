namespace NeuralBasics.Diagnostics;

/// <summary>The outcome of a gradient check.</summary>
/// <param name="MaxRelativeError">The largest relative error over the checked entries.</param>
/// <param name="WorstIndex">The entry with that error.</param>
/// <param name="Analytic">The analytic gradient at <paramref name="WorstIndex"/>.</param>
/// <param name="Numeric">The central-difference gradient at <paramref name="WorstIndex"/>.</param>
/// <param name="CheckedCount">How many entries were compared.</param>
public sealed record GradientCheckResult(double MaxRelativeError, int WorstIndex, double Analytic, double Numeric, int CheckedCount)
{
    /// <summary>Shows the worst entry.</summary>
    public override string ToString() =>
        $"max relative error {MaxRelativeError:E2} at [{WorstIndex}] (analytic {Analytic:G10}, numeric {Numeric:G10}) over {CheckedCount} entries";
}
