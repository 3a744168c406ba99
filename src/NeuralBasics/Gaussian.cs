namespace NeuralBasics;

/// <summary>Standard normal samples, for weight initialization and synthetic data alike.</summary>
internal static class Gaussian
{
    /// <summary>A standard normal sample (Box–Muller).</summary>
    public static double Next(Random random)
    {
        double u1 = 1.0 - random.NextDouble(); // in (0, 1], so the log is finite
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
