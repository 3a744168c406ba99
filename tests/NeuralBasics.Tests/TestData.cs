using System.Numerics;

namespace NeuralBasics.Tests;

/// <summary>Seeded random data for kernel tests.</summary>
internal static class TestData
{
    /// <summary>A rows x columns matrix of uniform values in [-1, 1), from <paramref name="seed"/>.</summary>
    public static Matrix<T> Uniform<T>(int rows, int columns, int seed, double scale = 1.0)
        where T : unmanaged, INumber<T>
    {
        var random = new Random(seed);
        var m = new Matrix<T>(rows, columns);
        foreach (ref T x in m.Span)
            x = T.CreateChecked((random.NextDouble() * 2 - 1) * scale);
        return m;
    }

    /// <summary>The unit roundoff of <typeparamref name="T"/>.</summary>
    public static double Epsilon<T>() => typeof(T) == typeof(float) ? Math.ScaleB(1.0, -24) : typeof(T) == typeof(double) ? Math.ScaleB(1.0, -53) : 1e-3;
}
