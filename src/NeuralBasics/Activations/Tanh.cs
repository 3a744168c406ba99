using System.Numerics;
using System.Numerics.Tensors;
using NeuralBasics.Kernels;
using NeuralBasics.Components;

namespace NeuralBasics.Activations;

/// <summary>
/// The hyperbolic tangent <c>tanh(x) = (e^x − e^{−x}) / (e^x + e^{−x})</c>, squashing to (−1, 1)
/// and centred on 0; derivative <c>tanh'(x) = 1 − tanh²(x)</c>, computed from the output.
/// </summary>
/// <remarks>
/// <para>Saturation is safe: <c>tanh(±100) = ±1</c> exactly, with derivative 0, never NaN.</para>
/// <para>
/// Odd and exact near 0, in both precisions: <c>TensorPrimitives.Tanh</c> loses the small values to
/// cancellation (it returns −5.96e-8 for tanh(0) in float inside vectorized blocks, is thousands of
/// ulps off at 1e-4 and 2e-5 relative in double near 1e-12), so tanh is computed on |x| and given
/// x's sign, and below |x| = 0.25 by its Taylor series to x²¹ (Horner in x²), which stays within
/// 2 ulps of the exact value there; above, TensorPrimitives is within 3 ulps. tanh(±0) = ±0.
/// </para>
/// </remarks>
public sealed class Tanh : IActivation, IDescribedComponent, IOnnxNodes
{
    /// <inheritdoc/>
    public string Kind => "tanh";

    /// <summary>Nothing: the kind is the whole description.</summary>
    public void Describe(ComponentDescription description) { }

    /// <summary>One Tanh node.</summary>
    public string AddOnnxNodes(IOnnxGraph graph, string input, string output)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return graph.Node("Tanh", [input], output);
    }

    /// <summary>Below this |x| the series is used.</summary>
    private const double SeriesLimit = 0.25;

    /// <summary>Elements per pass: the input's chunk is copied aside, so x and y may be the same memory.</summary>
    private const int Chunk = 256;

    /// <summary>tanh x = x·Σ_k c_k x^(2k): the Taylor coefficients c_0 … c_10 (2^(2k+2)(2^(2k+2) − 1)B_(2k+2)/(2k+2)!).</summary>
    private static readonly double[] Series =
    [
        1, -1.0 / 3, 2.0 / 15, -17.0 / 315, 62.0 / 2835, -1382.0 / 155925, 21844.0 / 6081075, -929569.0 / 638512875,
        6404582.0 / 10854718875, -443861162.0 / 1856156927625, 18888466084.0 / 194896477400625,
    ];

    /// <inheritdoc/>
    public void Forward<T>(ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ActivationChecks.Forward(x, y);
        Span<T> original = stackalloc T[Chunk];
        for (int start = 0; start < x.Length; start += Chunk)
        {
            int n = Math.Min(Chunk, x.Length - start);
            var xs = original[..n];
            x.Slice(start, n).CopyTo(xs);
            var ys = y.Slice(start, n);
            TensorPrimitives.Abs<T>(xs, ys);
            TensorPrimitives.Tanh<T>(ys, ys);
            SmallArguments(xs, ys);
            TensorPrimitives.CopySign<T>(ys, xs, ys);
        }
    }

    /// <summary>y = tanh|x| by the series where |x| is below <see cref="SeriesLimit"/>.</summary>
    private static void SmallArguments<T>(ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var limit = new Vector<T>(T.CreateChecked(SeriesLimit));
            for (; i + Vector<T>.Count <= x.Length; i += Vector<T>.Count)
            {
                var a = Vector.Abs(new Vector<T>(x[i..]));
                var small = Vector.LessThan(a, limit);
                if (small == Vector<T>.Zero)
                    continue;
                var z = a * a;
                var r = new Vector<T>(T.CreateChecked(Series[^1]));
                for (int k = Series.Length - 2; k >= 0; k--)
                    r = r * z + new Vector<T>(T.CreateChecked(Series[k]));
                Vector.ConditionalSelect(small, a * r, new Vector<T>(y[i..])).CopyTo(y[i..]);
            }
        }
        for (; i < x.Length; i++)
        {
            T a = T.Abs(x[i]);
            if (!(a < T.CreateChecked(SeriesLimit)))
                continue;
            T z = a * a, r = T.CreateChecked(Series[^1]);
            for (int k = Series.Length - 2; k >= 0; k--)
                r = r * z + T.CreateChecked(Series[k]);
            y[i] = a * r;
        }
    }

    /// <inheritdoc/>
    public void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ActivationChecks.Backward(x, y, dy, dx);
        ElementwiseLoop.Run(y, dy, dx, default(Derivative<T>));
    }

    /// <inheritdoc/>
    public override string ToString() => "Tanh";

    private readonly struct Derivative<T> : IBinaryOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T y, T dy) => dy * (T.One - y * y);

        public Vector<T> Invoke(Vector<T> y, Vector<T> dy) => dy * (Vector<T>.One - y * y);
    }
}
