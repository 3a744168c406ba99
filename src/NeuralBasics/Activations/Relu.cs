using System.Numerics;
using System.Numerics.Tensors;
using NeuralBasics.Kernels;

namespace NeuralBasics.Activations;

/// <summary>
/// The rectified linear unit <c>ReLU(x) = max(0, x)</c>; derivative 1 for x &gt; 0 and 0 for x &lt; 0.
/// </summary>
/// <remarks>
/// At the kink x = 0 the subgradient 0 is used. Units whose input stays negative get no gradient
/// and can "die"; <see cref="LeakyRelu"/> keeps a small slope there. Nair and Hinton (2010).
/// </remarks>
public sealed class Relu : IActivation
{
    /// <inheritdoc/>
    public void Forward<T>(ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ActivationChecks.Forward(x, y);
        TensorPrimitives.Max(x, T.Zero, y);
    }

    /// <inheritdoc/>
    public void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ActivationChecks.Backward(x, y, dy, dx);
        ElementwiseLoop.Run(x, dy, dx, default(ReluDerivative<T>));
    }

    /// <inheritdoc/>
    public override string ToString() => "ReLU";
}
