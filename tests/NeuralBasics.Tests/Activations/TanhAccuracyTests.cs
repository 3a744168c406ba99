using NeuralBasics.Activations;

namespace NeuralBasics.Tests.Activations;

/// <summary>tanh odd, exact at 0 and within a few ulps everywhere, in both precisions, wherever an element sits.</summary>
public class TanhAccuracyTests
{
    private static double[] Magnitudes() =>
        [.. new[] { 1e-40, 1e-30, 1e-12, 1e-8, 1e-6, 1e-4, 1e-3, 0.01, 0.05, 0.1, 0.2, 0.24, 0.25, 0.26, 0.3, 0.5, 1, 2, 5, 10, 50 }
            .SelectMany(m => Enumerable.Range(0, 37).Select(i => m * (1 + i / 37.0)))];

    [Fact]
    public void Float_IsWithinThreeUlps_OfTheExactValue()
    {
        double[] magnitudes = Magnitudes();
        float[] x = [.. magnitudes.Select(m => (float)m)];
        var y = new float[x.Length];
        new Tanh().Forward<float>(x, y);
        for (int i = 0; i < x.Length; i++)
        {
            float exact = (float)Math.Tanh(x[i]);   // the double result rounded: within half a float ulp of tanh
            float ulp = MathF.BitIncrement(Math.Abs(exact)) - Math.Abs(exact);
            Assert.True(Math.Abs(y[i] - exact) <= 3 * ulp, $"tanh({x[i]:R}) = {y[i]:R}, exact {exact:R}");
        }
    }

    [Fact]
    public void Double_IsWithinThreeUlps_OfTheExactValue()
    {
        double[] x = Magnitudes();
        var y = new double[x.Length];
        new Tanh().Forward<double>(x, y);
        for (int i = 0; i < x.Length; i++)
        {
            // Independent reference: the C library's tanh (expm1-based, within an ulp), which Math.Tanh calls.
            double exact = Math.Tanh(x[i]);
            double ulp = Math.BitIncrement(Math.Abs(exact)) - Math.Abs(exact);
            Assert.True(Math.Abs(y[i] - exact) <= 3 * ulp, $"tanh({x[i]:R}) = {y[i]:R}, exact {exact:R}");
        }
    }

    [Fact]
    public void Tanh_IsOdd_ExactAtZero_AndTheSameAtEveryPosition()
    {
        var random = new Random(3);
        float[] x = [.. Enumerable.Range(0, 1000).Select(_ => (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-12, 2))))];
        float[] negated = [.. x.Select(v => -v)];
        var y = new float[x.Length];
        var z = new float[x.Length];
        var tanh = new Tanh();
        tanh.Forward<float>(x, y);
        tanh.Forward<float>(negated, z);
        for (int i = 0; i < x.Length; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits(-y[i]), BitConverter.SingleToInt32Bits(z[i]));

        // ±0 anywhere in a block, and 1e-8 in the vector body and the scalar tail alike.
        float[] zeros = [.. Enumerable.Repeat(0f, 19).Append(-0f).Append(1e-8f).Prepend(1e-8f)];
        var out0 = new float[zeros.Length];
        tanh.Forward<float>(zeros, out0);
        Assert.All(out0.Take(zeros.Length - 1).Skip(1).Take(19), v => Assert.Equal(0, BitConverter.SingleToInt32Bits(v)));
        Assert.Equal(BitConverter.SingleToInt32Bits(-0f), BitConverter.SingleToInt32Bits(out0[20]));
        Assert.Equal(1e-8f, out0[0]);
        Assert.Equal(out0[0], out0[^1]);

        // In place (x and y the same memory), as a network may call it.
        float[] inPlace = [.. x];
        tanh.Forward<float>(inPlace, inPlace);
        Assert.Equal(y, inPlace);
    }
}
