using System.Numerics;
using NeuralBasics.Kernels;
using NeuralBasics.Components;

namespace NeuralBasics.Layers;

/// <summary>
/// A fully connected layer, <c>Y = XW + b</c>: X is N x D, W is D x M, b a row of M biases.
/// Backward: <c>dW = Xᵀ·dY</c>, <c>db = Σ_i dY[i, :]</c>, <c>dX = dY·Wᵀ</c>.
/// </summary>
/// <remarks>It keeps no buffers, so one instance may run forward passes from several threads at once.</remarks>
public sealed class Dense<T> : ILayer<T>, IDescribedComponent, IOnnxNodes
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;

    /// <summary>Creates an <paramref name="inputCount"/> → <paramref name="outputCount"/> layer with weights from <paramref name="init"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A count below 1.</exception>
    public Dense(int inputCount, int outputCount, WeightInit init, int seed = 0, string namePrefix = "")
    {
        Guard.AtLeast(inputCount, 1, "The number of inputs");
        Guard.AtLeast(outputCount, 1, "The number of outputs");
        ArgumentNullException.ThrowIfNull(init);
        var w = new Matrix<T>(inputCount, outputCount);
        init.Fill(w.Span, inputCount, outputCount, new Random(seed));
        Weights = new Parameter<T>(namePrefix + "W", w, isRegularized: true);
        Biases = new Parameter<T>(namePrefix + "b", new Matrix<T>(1, outputCount), isRegularized: false);
        _parameters = [Weights, Biases];
    }

    private Dense(Parameter<T> weights, Parameter<T> biases)
    {
        Weights = weights;
        Biases = biases;
        _parameters = [Weights, Biases];
    }

    /// <summary>W, D x M.</summary>
    public Parameter<T> Weights { get; }

    /// <summary>b, 1 x M.</summary>
    public Parameter<T> Biases { get; }

    /// <inheritdoc/>
    public int InputCount => Weights.Value.Rows;

    /// <inheritdoc/>
    public int OutputCount => Weights.Value.Columns;

    /// <inheritdoc/>
    public IReadOnlyList<Parameter<T>> Parameters => _parameters;

    /// <inheritdoc/>
    public void Forward(ReadOnlyMatrixSpan<T> input, MatrixSpan<T> output)
    {
        LayerChecks.Forward(this, input, output);
        // The bias goes in as the product finishes each tile of the output, not in a second pass.
        Gemm.MultiplyAddBias(input, Weights.Value.AsReadOnlySpan(), Biases.Value.Span, output);
    }

    /// <summary>
    /// This layer's forward pass and a ReLU after it in one: <paramref name="output"/> = XW + b and
    /// <paramref name="activated"/> = max(0, XW + b), both written as the product finishes each
    /// tile (<see cref="Sequential{T}"/> uses it for a dense layer followed by ReLU, with
    /// <paramref name="activated"/> = <paramref name="output"/>: max(0, XW + b) in place).
    /// </summary>
    internal void ForwardRelu(ReadOnlyMatrixSpan<T> input, MatrixSpan<T> output, MatrixSpan<T> activated)
    {
        LayerChecks.Forward(this, input, output);
        Gemm.MultiplyAddBias(input, Weights.Value.AsReadOnlySpan(), Biases.Value.Span, output, FusedActivation.Relu, activated);
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlyMatrixSpan<T> input, ReadOnlyMatrixSpan<T> output, ReadOnlyMatrixSpan<T> outputGradient, MatrixSpan<T> inputGradient)
    {
        LayerChecks.Backward(this, input, output, outputGradient, inputGradient);
        Gemm.MultiplyTransposeA(input, outputGradient, Weights.Gradient.AsSpan());
        RowOps.ColumnSums(outputGradient, Biases.Gradient.Span);
        if (!inputGradient.IsEmpty)
            Gemm.MultiplyTransposeB(outputGradient, Weights.Value.AsReadOnlySpan(), inputGradient);
    }

    /// <summary>
    /// <see cref="Backward"/> followed, in the same pass over dX, by the backward pass of a ReLU
    /// below this layer: <paramref name="reluInputGradient"/> = <paramref name="reluInput"/> &gt; 0 ?
    /// dX : 0, with <paramref name="reluInput"/> that ReLU's input. Same bits as the two apart.
    /// </summary>
    internal void BackwardThroughRelu(ReadOnlyMatrixSpan<T> input, ReadOnlyMatrixSpan<T> output, ReadOnlyMatrixSpan<T> outputGradient,
        MatrixSpan<T> inputGradient, ReadOnlyMatrixSpan<T> reluInput, MatrixSpan<T> reluInputGradient)
    {
        LayerChecks.Backward(this, input, output, outputGradient, inputGradient);
        Gemm.MultiplyTransposeA(input, outputGradient, Weights.Gradient.AsSpan());
        RowOps.ColumnSums(outputGradient, Biases.Gradient.Span);
        Gemm.MultiplyTransposeBReluGradient(outputGradient, Weights.Value.AsReadOnlySpan(), inputGradient, reluInput, reluInputGradient);
    }


    /// <inheritdoc/>
    public string Kind => "dense";

    /// <inheritdoc/>
    public void Describe(ComponentDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        description.Set("inputs", InputCount);
        description.Set("outputs", OutputCount);
        description.Set("prefix", Weights.Name[..^1]);
    }

    /// <summary>One Gemm node.</summary>
    public string AddOnnxNodes(IOnnxGraph graph, string input, string output)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return graph.Gemm(input, Weights, Biases, output);
    }

    /// <summary>A deep copy: same values, its own gradients.</summary>
    public Dense<T> Clone() =>
        new(new Parameter<T>(Weights.Name, Weights.Value.Clone(), isRegularized: true),
            new Parameter<T>(Biases.Name, Biases.Value.Clone(), isRegularized: false));

    ILayer<T> ILayer<T>.Clone() => Clone();

    /// <inheritdoc/>
    public override string ToString() => $"Dense({InputCount} -> {OutputCount})";
}

/// <summary>Reads a <see cref="Dense{T}"/> layer: inputs, outputs and the prefix of W and b.</summary>
internal sealed class DenseReader : ILayerReader
{
    public IEnumerable<ParameterShape> Parameters(ComponentDescription description)
    {
        string prefix = description.Text("prefix");
        int outputs = description.Count("outputs");
        return [new(prefix + "W", description.Count("inputs"), outputs), new(prefix + "b", 1, outputs)];
    }

    public ILayer<T> Read<T>(ComponentDescription description)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new Dense<T>(description.Count("inputs"), description.Count("outputs"), WeightInit.Gaussian(0), namePrefix: description.Text("prefix"));
}
