using System.Numerics;
using NeuralBasics.Kernels;
using NeuralBasics.Components;

namespace NeuralBasics.Activations;

/// <summary>
/// Leaky ReLU: <c>f(x) = x</c> for x &gt; 0 and <c>α·x</c> otherwise (α default 0.01);
/// derivative 1 for x &gt; 0 and α otherwise.
/// </summary>
/// <remarks>
/// The small negative slope keeps a gradient flowing through units a plain ReLU would leave dead.
/// At the kink x = 0 the derivative α is used. Maas, Hannun and Ng (2013).
/// </remarks>
public sealed class LeakyRelu : IActivation, IDescribedComponent, IOnnxNodes
{
    /// <inheritdoc/>
    public string Kind => "leaky_relu";

    /// <inheritdoc/>
    public void Describe(ComponentDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        description.Set("slope", Slope);
    }

    /// <summary>One LeakyRelu node, its alpha the slope.</summary>
    public string AddOnnxNodes(IOnnxGraph graph, string input, string output)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return graph.Node("LeakyRelu", [input], output, OnnxAttribute.Real("alpha", (float)Slope));
    }

    /// <summary>Reads the slope.</summary>
    internal static LeakyRelu Read(ComponentDescription description) => new(description.Number("slope"));

    /// <summary>Creates the activation with negative slope <paramref name="slope"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">α is negative or not finite.</exception>
    public LeakyRelu(double slope = 0.01) => Slope = Guard.NonNegativeFinite(slope, "The negative slope α");

    /// <summary>α, the slope for x ≤ 0.</summary>
    public double Slope { get; }

    /// <inheritdoc/>
    public void Forward<T>(ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ActivationChecks.Forward(x, y);
        ElementwiseLoop.Run(x, x, y, new Function<T>(T.CreateChecked(Slope)));
    }

    /// <inheritdoc/>
    public void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ActivationChecks.Backward(x, y, dy, dx);
        ElementwiseLoop.Run(x, dy, dx, new Function<T>(T.CreateChecked(Slope)));
    }

    /// <inheritdoc/>
    public override string ToString() => $"LeakyReLU(α = {Slope})";

    /// <summary><c>x &gt; 0 ? v : α·v</c>: the function itself with v = x, its backward pass with v = dy.</summary>
    private readonly struct Function<T>(T slope) : IBinaryOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x, T v) => x > T.Zero ? v : slope * v;

        public Vector<T> Invoke(Vector<T> x, Vector<T> v) =>
            Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<T>.Zero), v, slope * v);
    }
}
