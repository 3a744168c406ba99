namespace NeuralBasics.Diagnostics;

/// <summary>
/// Checks an analytic gradient against central differences, in <see cref="double"/>:
/// <c>n_k = (f(θ + h·e_k) − f(θ − h·e_k)) / 2h</c>, and per entry the relative error
/// <c>|a_k − n_k| / max(|a_k|, |n_k|, floor)</c>.
/// </summary>
/// <remarks>
/// The difference itself is only good to about <c>ε·|f| / h</c> (rounding, ε ≈ 1e-16) plus
/// <c>h²·|f‴| / 6</c> (truncation). The default step h = 1e-4 balances the two for objectives
/// of order 1. The floor keeps entries whose true gradient is 0, or tiny next to the others, from
/// turning that noise into a large relative error: by default it is 1e-3 times the largest
/// analytic entry, so such entries are judged against the gradient's own scale.
/// Piecewise-linear losses (the hinge) have kinks where the difference is meaningless; with
/// random data an entry lands within h of one only rarely.
/// </remarks>
public static class GradientCheck
{
    /// <summary>
    /// Compares <paramref name="analyticGradient"/> with the central differences of
    /// <paramref name="objective"/> over <paramref name="parameters"/>, which it perturbs in place
    /// and restores exactly.
    /// </summary>
    /// <param name="objective">Evaluates the objective at the current <paramref name="parameters"/>.</param>
    /// <param name="parameters">The point; each entry is nudged by ±<paramref name="step"/> in turn.</param>
    /// <param name="analyticGradient">The gradient to check, same length.</param>
    /// <param name="step">The difference step h (default 1e-4).</param>
    /// <param name="sampleSize">Check only this many entries chosen at random (for large tensors); null checks all.</param>
    /// <param name="seed">The seed choosing the sampled entries.</param>
    /// <param name="floor">The smallest denominator of the relative error; null (the default) means 1e-3 times the largest |analytic| entry, and at least 1e-12.</param>
    /// <exception cref="ArgumentException">The lengths differ, or a setting is out of range.</exception>
    public static GradientCheckResult Check(Func<double> objective, Memory<double> parameters, ReadOnlySpan<double> analyticGradient,
        double step = 1e-4, int? sampleSize = null, int seed = 0, double? floor = null)
    {
        ArgumentNullException.ThrowIfNull(objective);
        if (analyticGradient.Length != parameters.Length)
            throw new ArgumentException(
                $"The analytic gradient has {analyticGradient.Length} entries but there are {parameters.Length} parameters.", nameof(analyticGradient));
        Guard.PositiveFinite(step, "The difference step");
        if (sampleSize is { } size)
            Guard.AtLeast(size, 1, "The sample size", nameof(sampleSize));
        if (floor is { } f)
            Guard.PositiveFinite(f, "The floor", nameof(floor));
        double denominatorFloor = floor ?? Math.Max(1e-12, 1e-3 * MaxAbs(analyticGradient));

        int[] indices = ChooseIndices(parameters.Length, sampleSize, seed);
        double worst = 0, worstAnalytic = 0, worstNumeric = 0;
        int worstIndex = indices.Length > 0 ? indices[0] : -1;
        foreach (int k in indices)
        {
            double original = parameters.Span[k];
            parameters.Span[k] = original + step;
            double plus = objective();
            parameters.Span[k] = original - step;
            double minus = objective();
            parameters.Span[k] = original;

            double numeric = (plus - minus) / (2 * step);
            double analytic = analyticGradient[k];
            double error = Math.Abs(analytic - numeric) / Math.Max(Math.Max(Math.Abs(analytic), Math.Abs(numeric)), denominatorFloor);
            if (double.IsNaN(error))
                error = double.PositiveInfinity;
            if (error > worst || (worst == 0 && k == worstIndex))
            {
                worst = error;
                worstIndex = k;
                worstAnalytic = analytic;
                worstNumeric = numeric;
            }
        }
        return new GradientCheckResult(worst, worstIndex, worstAnalytic, worstNumeric, indices.Length);
    }

    private static double MaxAbs(ReadOnlySpan<double> values)
    {
        double max = 0;
        foreach (double v in values)
            if (double.IsFinite(v))
                max = Math.Max(max, Math.Abs(v));
        return max;
    }

    private static int[] ChooseIndices(int length, int? sampleSize, int seed)
    {
        if (sampleSize is not { } size || size >= length)
            return Enumerable.Range(0, length).ToArray();
        // A partial Fisher–Yates shuffle: distinct entries, reproducible from the seed.
        var all = Enumerable.Range(0, length).ToArray();
        var random = new Random(seed);
        for (int i = 0; i < size; i++)
        {
            int j = random.Next(i, length);
            (all[i], all[j]) = (all[j], all[i]);
        }
        return all[..size];
    }
}
