using System.Numerics;
using System.Numerics.Tensors;
using NeuralBasics.Kernels;
using NeuralBasics.Components;

namespace NeuralBasics.Activations;

/// <summary>
/// The rectified linear unit <c>ReLU(x) = max(0, x)</c>; derivative 1 for x &gt; 0 and 0 for x &lt; 0.
/// </summary>
/// <remarks>
/// At the kink x = 0 the subgradient 0 is used. Units whose input stays negative get no gradient
/// and can "die"; <see cref="LeakyRelu"/> keeps a small slope there. Nair and Hinton (2010).
/// </remarks>
public sealed class Relu : IActivation, IDescribedComponent, IOnnxNodes
{
    /// <inheritdoc/>
    public string Kind => "relu";

    /// <summary>Nothing: the kind is the whole description.</summary>
    public void Describe(ComponentDescription description) { }

    /// <summary>One Relu node.</summary>
    public string AddOnnxNodes(IOnnxGraph graph, string input, string output)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return graph.Node("Relu", [input], output);
    }

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
