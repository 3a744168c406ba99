using System.Numerics;
using System.Numerics.Tensors;
using NeuralBasics.Kernels;

namespace NeuralBasics.Activations;

/// <summary>
/// The hyperbolic tangent <c>tanh(x) = (e^x − e^{−x}) / (e^x + e^{−x})</c>, squashing to (−1, 1)
/// and centred on 0; derivative <c>tanh'(x) = 1 − tanh²(x)</c>, computed from the output.
/// </summary>
/// <remarks>Saturation is safe: <c>tanh(±100) = ±1</c> exactly, with derivative 0, never NaN.</remarks>
public sealed class Tanh : IActivation
{
    /// <inheritdoc/>
    public void Forward<T>(ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ActivationChecks.Forward(x, y);
        TensorPrimitives.Tanh(x, y);
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
