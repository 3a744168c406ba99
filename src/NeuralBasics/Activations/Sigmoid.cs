using System.Numerics;
using System.Numerics.Tensors;
using NeuralBasics.Kernels;
using NeuralBasics.Components;

namespace NeuralBasics.Activations;

/// <summary>
/// The logistic sigmoid <c>σ(x) = 1 / (1 + e^{−x})</c>, squashing to (0, 1); derivative
/// <c>σ'(x) = σ(x)·(1 − σ(x))</c>, computed from the output.
/// </summary>
/// <remarks>
/// Saturation is safe: for large |x| the output rounds to 0 or 1 and the derivative to 0, never NaN
/// (<c>σ(100) = 1</c> exactly; <c>σ(−100) ≈ 3.7e-44</c> in double and 0 in float).
/// </remarks>
public sealed class Sigmoid : IActivation, IDescribedComponent, IOnnxNodes
{
    /// <inheritdoc/>
    public string Kind => "sigmoid";

    /// <summary>Nothing: the kind is the whole description.</summary>
    public void Describe(ComponentDescription description) { }

    /// <summary>One Sigmoid node.</summary>
    public string AddOnnxNodes(IOnnxGraph graph, string input, string output)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return graph.Node("Sigmoid", [input], output);
    }

    /// <inheritdoc/>
    public void Forward<T>(ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ActivationChecks.Forward(x, y);
        TensorPrimitives.Sigmoid(x, y);
        // Below x ≈ −87 (float) the output is subnormal; the next layer's product would run on them.
        Subnormal.FlushAll(y);
    }

    /// <inheritdoc/>
    public void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ActivationChecks.Backward(x, y, dy, dx);
        ElementwiseLoop.Run(y, dy, dx, default(Derivative<T>));
    }

    /// <inheritdoc/>
    public override string ToString() => "Sigmoid";

    private readonly struct Derivative<T> : IBinaryOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T y, T dy) => dy * y * (T.One - y);

        public Vector<T> Invoke(Vector<T> y, Vector<T> dy) => dy * y * (Vector<T>.One - y);
    }
}
