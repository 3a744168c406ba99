using System.Numerics;
using NeuralBasics.Components;

namespace NeuralBasics.Layers;

/// <summary>
/// The parametric ReLU of He, Zhang, Ren and Sun (2015), "Delving Deep into Rectifiers":
/// <c>f(x_j) = x_j</c> for <c>x_j &gt; 0</c> and <c>a_j·x_j</c> otherwise, with one learned slope
/// a_j per unit (the paper's channel-wise form), starting at 0.25.
/// </summary>
/// <remarks>
/// Backward: <c>∂L/∂x_j = ∂L/∂f_j</c> where x_j &gt; 0 and <c>a_j·∂L/∂f_j</c> otherwise;
/// <c>∂L/∂a_j = Σ_n ∂L/∂f_nj · x_nj</c> over the batch rows with x_nj ≤ 0. The slopes are not
/// regularized (the paper uses no weight decay on them): they are saved, loaded and trained like
/// biases. Initialize the layer before it with He (<see cref="WeightInit.He"/>), as for ReLU.
/// </remarks>
public sealed class PRelu<T> : ILayer<T>, IDescribedComponent, IOnnxNodes
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>A layer of <paramref name="size"/> units, every slope at <paramref name="initialSlope"/>.</summary>
    /// <param name="size">Units (values per sample).</param>
    /// <param name="initialSlope">The slopes' starting value (default 0.25, the paper's).</param>
    /// <param name="namePrefix">Prefix of the slopes' parameter name ("a").</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is below 1, or the slope is not finite.</exception>
    public PRelu(int size, double initialSlope = 0.25, string namePrefix = "")
    {
        Guard.AtLeast(size, 1, "The layer size", nameof(size));
        if (!double.IsFinite(initialSlope))
            throw new ArgumentOutOfRangeException(nameof(initialSlope), initialSlope, "The initial slope must be finite.");
        var slopes = new Matrix<T>(1, size);
        slopes.Span.Fill(T.CreateChecked(initialSlope));
        Slopes = new Parameter<T>(namePrefix + "a", slopes, isRegularized: false);
    }

    private PRelu(Parameter<T> slopes) => Slopes = slopes;

    /// <summary>The slopes a_j for negative inputs, 1 x size.</summary>
    public Parameter<T> Slopes { get; }

    /// <inheritdoc/>
    public int InputCount => Slopes.Value.Columns;

    /// <inheritdoc/>
    public int OutputCount => InputCount;

    /// <inheritdoc/>
    public IReadOnlyList<Parameter<T>> Parameters => [Slopes];

    /// <inheritdoc/>
    public void Forward(ReadOnlyMatrixSpan<T> input, MatrixSpan<T> output)
    {
        LayerChecks.Forward(this, input, output);
        var a = Slopes.Value.Span;
        for (int n = 0; n < input.Rows; n++)
        {
            var x = input.Row(n);
            var y = output.Row(n);
            for (int j = 0; j < x.Length; j++)
                y[j] = x[j] > T.Zero ? x[j] : a[j] * x[j];
        }
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlyMatrixSpan<T> input, ReadOnlyMatrixSpan<T> output, ReadOnlyMatrixSpan<T> outputGradient, MatrixSpan<T> inputGradient)
    {
        LayerChecks.Backward(this, input, output, outputGradient, inputGradient);
        var a = Slopes.Value.Span;
        var da = Slopes.Gradient.Span;
        da.Clear();
        for (int n = 0; n < input.Rows; n++)
        {
            var x = input.Row(n);
            var dy = outputGradient.Row(n);
            for (int j = 0; j < x.Length; j++)
                if (!(x[j] > T.Zero))
                    da[j] += dy[j] * x[j];
            if (inputGradient.IsEmpty)
                continue;
            var dx = inputGradient.Row(n);
            for (int j = 0; j < x.Length; j++)
                dx[j] = x[j] > T.Zero ? dy[j] : a[j] * dy[j];
        }
    }


    /// <inheritdoc/>
    public string Kind => "prelu";

    /// <inheritdoc/>
    public void Describe(ComponentDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        description.Set("size", InputCount);
        description.Set("prefix", Slopes.Name[..^1]);
    }

    /// <summary>One PRelu node with the slopes.</summary>
    public string AddOnnxNodes(IOnnxGraph graph, string input, string output)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return graph.Node("PRelu", [input, graph.Initializer<T>(Slopes.Name, [InputCount], Slopes.Value.Span)], output);
    }

    /// <inheritdoc/>
    public ILayer<T> Clone() => new PRelu<T>(new Parameter<T>(Slopes.Name, Slopes.Value.Clone(), isRegularized: false));

    /// <inheritdoc/>
    public override string ToString() => $"PReLU({InputCount})";
}

/// <summary>Reads a <see cref="PRelu{T}"/> layer: its size and the prefix of its slopes.</summary>
internal sealed class PReluReader : ILayerReader
{
    public IEnumerable<ParameterShape> Parameters(ComponentDescription description) =>
        [new(description.Text("prefix") + "a", 1, description.Count("size"))];

    public ILayer<T> Read<T>(ComponentDescription description)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new PRelu<T>(description.Count("size"), 0, description.Text("prefix"));
}
