using System.Numerics;

namespace NeuralBasics.Layers;

/// <summary>How a layer's weights are drawn (biases always start at 0).</summary>
public abstract record WeightInit
{
    /// <summary>
    /// Glorot (Xavier) normal: <c>N(0, 2 / (fan_in + fan_out))</c>, which keeps the variance of
    /// activations and gradients level through sigmoid and tanh layers. Glorot and Bengio (2010),
    /// "Understanding the difficulty of training deep feedforward neural networks".
    /// </summary>
    public static WeightInit Glorot { get; } = new GlorotInit();

    /// <summary>
    /// He (Kaiming) normal: <c>N(0, 2 / fan_in)</c>, which makes up for ReLU zeroing half its
    /// inputs. He, Zhang, Ren and Sun (2015), "Delving Deep into Rectifiers".
    /// </summary>
    public static WeightInit He { get; } = new HeInit();

    /// <summary>A plain Gaussian <c>N(0, scale²)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The scale is negative or not finite.</exception>
    public static WeightInit Gaussian(double scale) => new GaussianInit(Guard.NonNegativeFinite(scale, "The weight scale"));

    /// <summary>The standard deviation for a layer with these fan-in and fan-out.</summary>
    public abstract double StandardDeviation(int fanIn, int fanOut);

    /// <summary>Fills <paramref name="weights"/> from <c>N(0, σ²)</c> with the seeded <paramref name="random"/>.</summary>
    internal void Fill<T>(Span<T> weights, int fanIn, int fanOut, Random random)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double sigma = StandardDeviation(fanIn, fanOut);
        if (sigma == 0)
        {
            // Zeros without drawing a number for each (a model being loaded builds its layers so).
            weights.Clear();
            return;
        }
        foreach (ref T w in weights)
            w = T.CreateChecked(sigma * NeuralBasics.Gaussian.Next(random));
    }

    private sealed record GlorotInit : WeightInit
    {
        public override double StandardDeviation(int fanIn, int fanOut) => Math.Sqrt(2.0 / (fanIn + fanOut));

        public override string ToString() => "Glorot";
    }

    private sealed record HeInit : WeightInit
    {
        public override double StandardDeviation(int fanIn, int fanOut) => Math.Sqrt(2.0 / fanIn);

        public override string ToString() => "He";
    }

    private sealed record GaussianInit(double Scale) : WeightInit
    {
        public override double StandardDeviation(int fanIn, int fanOut) => Scale;

        public override string ToString() => $"Gaussian({Scale})";
    }
}
