using System.Numerics;
using NeuralBasics.Kernels;
using NeuralBasics.Components;

namespace NeuralBasics.Layers;

/// <summary>
/// Maxout: <c>out_j = max_p (x·W_p + b_p)_j</c> over k linear pieces p = 1..k, each with its own
/// weights. It learns its own convex, piecewise-linear activation (ReLU is the special case of two
/// pieces, one fixed at 0). Goodfellow, Warde-Farley, Mirza, Courville and Bengio (2013), "Maxout
/// Networks".
/// </summary>
/// <remarks>
/// The k pieces are stored side by side as one D x (M·k) matrix W and a row b of M·k biases, column
/// <c>j·k + p</c> holding piece p of output j, so the forward pass is one matrix product
/// <c>Z = XW + b</c> followed by a max over each group of k adjacent columns. Backward routes
/// each output's gradient to its winning piece only (the first, on ties):
/// <c>dZ[i, j·k + p] = dOut[i, j]</c> for the winner and 0 for the rest; then
/// <c>dW = Xᵀ·dZ</c>, <c>db = Σ_i dZ[i, :]</c>, <c>dX = dZ·Wᵀ</c>. The layer keeps Z and dZ for the
/// batch between the passes.
/// </remarks>
public sealed class Maxout<T> : ILayer<T>, IDescribedComponent, IOnnxNodes
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;
    private T[] _z = [], _dz = [];

    /// <summary>Creates the layer: <paramref name="inputCount"/> → <paramref name="outputCount"/> with <paramref name="pieces"/> pieces each.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A count below 1, or fewer than 2 pieces.</exception>
    public Maxout(int inputCount, int outputCount, int pieces, WeightInit init, int seed = 0, string namePrefix = "")
    {
        Guard.AtLeast(inputCount, 1, "The number of inputs");
        Guard.AtLeast(outputCount, 1, "The number of outputs");
        Pieces = Guard.AtLeast(pieces, 2, "The number of maxout pieces k");
        ArgumentNullException.ThrowIfNull(init);
        if ((long)outputCount * pieces > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(pieces), pieces,
                $"{outputCount} outputs x {pieces} pieces is more linear units than an array can hold.");
        var w = new Matrix<T>(inputCount, outputCount * pieces);
        // Each piece is a layer of its own with fan-out M.
        init.Fill(w.Span, inputCount, outputCount, new Random(seed));
        Weights = new Parameter<T>(namePrefix + "W", w, isRegularized: true);
        Biases = new Parameter<T>(namePrefix + "b", new Matrix<T>(1, outputCount * pieces), isRegularized: false);
        OutputCount = outputCount;
        _parameters = [Weights, Biases];
    }

    private Maxout(Parameter<T> weights, Parameter<T> biases, int outputCount, int pieces)
    {
        Weights = weights;
        Biases = biases;
        OutputCount = outputCount;
        Pieces = pieces;
        _parameters = [Weights, Biases];
    }

    /// <summary>k, the number of linear pieces per output.</summary>
    public int Pieces { get; }

    /// <summary>W, D x (M·k): column j·k + p is piece p of output j.</summary>
    public Parameter<T> Weights { get; }

    /// <summary>b, 1 x (M·k), in the same column order.</summary>
    public Parameter<T> Biases { get; }

    /// <inheritdoc/>
    public int InputCount => Weights.Value.Rows;

    /// <inheritdoc/>
    public int OutputCount { get; }

    /// <inheritdoc/>
    public IReadOnlyList<Parameter<T>> Parameters => _parameters;

    /// <inheritdoc/>
    public void Forward(ReadOnlyMatrixSpan<T> input, MatrixSpan<T> output)
    {
        LayerChecks.Forward(this, input, output);
        int n = input.Rows, k = Pieces, wide = OutputCount * k;
        if (_z.Length < n * wide)
        {
            _z = new T[n * wide];
            _dz = new T[n * wide];
        }
        var z = new MatrixSpan<T>(_z, n, wide);
        Gemm.MultiplyAddBias(input, Weights.Value.AsReadOnlySpan(), Biases.Value.Span, z);
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<T> zi = z.Row(i);
            Span<T> oi = output.Row(i);
            for (int j = 0; j < oi.Length; j++)
            {
                T best = zi[j * k];
                for (int p = 1; p < k; p++)
                    best = T.Max(best, zi[j * k + p]);
                oi[j] = best;
            }
        }
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlyMatrixSpan<T> input, ReadOnlyMatrixSpan<T> output, ReadOnlyMatrixSpan<T> outputGradient, MatrixSpan<T> inputGradient)
    {
        LayerChecks.Backward(this, input, output, outputGradient, inputGradient);
        int n = input.Rows, k = Pieces, wide = OutputCount * k;
        if (_z.Length < n * wide)
            throw new InvalidOperationException("Backward needs the forward pass of the same batch first.");
        var z = new ReadOnlyMatrixSpan<T>(_z, n, wide);
        var dz = new MatrixSpan<T>(_dz, n, wide);
        dz.Clear();
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<T> zi = z.Row(i), gi = outputGradient.Row(i);
            Span<T> dzi = dz.Row(i);
            for (int j = 0; j < gi.Length; j++)
            {
                int winner = j * k;
                for (int p = 1; p < k; p++)
                    if (zi[j * k + p] > zi[winner])
                        winner = j * k + p;
                dzi[winner] = gi[j];
            }
        }
        Gemm.MultiplyTransposeA(input, dz, Weights.Gradient.AsSpan());
        RowOps.ColumnSums(dz, Biases.Gradient.Span);
        if (!inputGradient.IsEmpty)
            Gemm.MultiplyTransposeB(dz, Weights.Value.AsReadOnlySpan(), inputGradient);
    }


    /// <inheritdoc/>
    public string Kind => "maxout";

    /// <inheritdoc/>
    public void Describe(ComponentDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        description.Set("inputs", InputCount);
        description.Set("outputs", OutputCount);
        description.Set("pieces", Pieces);
        description.Set("prefix", Weights.Name[..^1]);
    }

    /// <summary>A Gemm to units·k values (unit j's pieces are columns j·k … j·k + k − 1), Reshape to [N, units, k], ReduceMax over k.</summary>
    public string AddOnnxNodes(IOnnxGraph graph, string input, string output)
    {
        ArgumentNullException.ThrowIfNull(graph);
        string wide = graph.Gemm(input, Weights, Biases, $"{output}.pieces");
        string shape = graph.Initializer($"{output}.shape", [3], [0, OutputCount, Pieces]);
        string grouped = graph.Node("Reshape", [wide, shape], $"{output}.grouped");
        return graph.Node("ReduceMax", [grouped], output, OnnxAttribute.Ints("axes", 2), OnnxAttribute.Int("keepdims", 0));
    }

    /// <inheritdoc/>
    public ILayer<T> Clone() =>
        new Maxout<T>(new Parameter<T>(Weights.Name, Weights.Value.Clone(), isRegularized: true),
            new Parameter<T>(Biases.Name, Biases.Value.Clone(), isRegularized: false), OutputCount, Pieces);

    /// <inheritdoc/>
    public override string ToString() => $"Maxout({InputCount} -> {OutputCount}, k = {Pieces})";
}

/// <summary>Reads a <see cref="Maxout{T}"/> layer: inputs, outputs, pieces and the prefix of W and b.</summary>
internal sealed class MaxoutReader : ILayerReader
{
    public IEnumerable<ParameterShape> Parameters(ComponentDescription description)
    {
        string prefix = description.Text("prefix");
        int units = ComponentDescription.Product(description.Count("outputs"), description.Count("pieces", minimum: 2), "outputs x pieces");
        return [new(prefix + "W", description.Count("inputs"), units), new(prefix + "b", 1, units)];
    }

    public ILayer<T> Read<T>(ComponentDescription description)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new Maxout<T>(description.Count("inputs"), description.Count("outputs"), description.Count("pieces", minimum: 2), WeightInit.Gaussian(0),
            namePrefix: description.Text("prefix"));
}
