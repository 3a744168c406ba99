using System.Numerics;
using NeuralBasics.Activations;
using NeuralBasics.Components;

namespace NeuralBasics.Layers;

/// <summary>
/// A stack of layers applied in order, itself a score function: the last layer's outputs are the
/// class scores, and backpropagation runs the layers' backward passes in reverse, each handing
/// <c>dL/d(input)</c> to the layer before it. A linear classifier is the one-layer case,
/// <c>new Sequential&lt;T&gt;(new Dense&lt;T&gt;(D, C, ...))</c>.
/// </summary>
/// <remarks>
/// The network keeps every layer's output (and gradient) for the batch between the forward and
/// backward passes (a dense or convolution layer followed by ReLU keeps only the ReLU's output; a
/// shallow convolution followed by ReLU and 2 x 2 max-pooling only the pooled values), in buffers that grow to the largest batch seen and are then reused: a warm
/// training step allocates nothing. An instance therefore serves one thread at a time;
/// <see cref="Clone"/> gives another thread its own (the trained <c>Classifier</c> does this).
/// Build one with <see cref="NetworkBuilder{T}"/> to get per-layer initialization chosen by activation.
/// </remarks>
public sealed class Sequential<T> : IScoreFunction<T>, ITrainingMode, IDescribedComponent, IOnnxNodes
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ILayer<T>[] _layers;
    private readonly Parameter<T>[] _parameters;
    /// <summary>True at a dense or convolution layer whose next layer is ReLU: the two run as one fused pass.</summary>
    private readonly bool[] _fusedWithNext;
    /// <summary>
    /// True at a convolution followed by ReLU and 2 x 2 max-pooling that run as one pass
    /// (<see cref="Conv2D{T}.ForwardPooled"/>): neither the convolution's nor the ReLU's output is stored.
    /// </summary>
    private readonly bool[] _pooledInPass;
    private Memory<T>[] _outputs, _gradients;
    private int _capacity;

    /// <summary>Stacks <paramref name="layers"/>; each layer's input count must equal the previous layer's output count.</summary>
    /// <exception cref="ArgumentException">No layers, mismatched sizes, fewer than 2 outputs, or repeated parameter names.</exception>
    public Sequential(params ILayer<T>[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Length == 0)
            throw new ArgumentException("A network needs at least one layer.", nameof(layers));
        for (int l = 1; l < layers.Length; l++)
            if (layers[l].InputCount != layers[l - 1].OutputCount)
                throw new ArgumentException(
                    $"Layer {l} ({layers[l]}) takes {layers[l].InputCount} inputs but layer {l - 1} ({layers[l - 1]}) gives {layers[l - 1].OutputCount}.",
                    nameof(layers));
        Guard.ClassCount(layers[^1].OutputCount, "the last layer's output count");
        _layers = [.. layers];
        _parameters = [.. layers.SelectMany(layer => layer.Parameters)];
        var duplicate = _parameters.GroupBy(p => p.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"Two parameters are named '{duplicate.Key}'; give each layer its own name prefix.", nameof(layers));
        _outputs = new Memory<T>[_layers.Length];
        _gradients = new Memory<T>[_layers.Length];
        _fusedWithNext = [.. _layers.Select((layer, l) =>
            layer is Dense<T> or Conv2D<T> && l + 1 < _layers.Length && _layers[l + 1] is ActivationLayer<T> { Activation: Relu })];
        _pooledInPass = [.. _layers.Select((layer, l) =>
            _fusedWithNext[l] && layer is Conv2D<T> conv && l + 2 < _layers.Length && _layers[l + 2] is MaxPool2D<T> pool && conv.CanPoolInPass(pool))];
    }

    /// <summary>The layers, first to last.</summary>
    public IReadOnlyList<ILayer<T>> Layers => _layers;

    /// <summary>Whether the layers that train differently (<see cref="ITrainingMode"/>) are in training mode; setting it sets them all.</summary>
    public bool IsTraining
    {
        get => _layers.OfType<ITrainingMode>().Any(l => l.IsTraining);
        set
        {
            foreach (var layer in _layers)
                if (layer is ITrainingMode mode)
                    mode.IsTraining = value;
        }
    }

    /// <inheritdoc/>
    public int InputCount => _layers[0].InputCount;

    /// <inheritdoc/>
    public int ClassCount => _layers[^1].OutputCount;

    /// <inheritdoc/>
    public IReadOnlyList<Parameter<T>> Parameters => _parameters;


    /// <inheritdoc/>
    public string Kind => "sequential";

    /// <summary>Writes the layers in order, each by its own description.</summary>
    /// <exception cref="NotSupportedException">A layer does not describe itself.</exception>
    public void Describe(ComponentDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        description.SetComponents<ILayer<T>>("layers", _layers);
    }

    /// <summary>Each layer's nodes in turn, layer l writing <c>layer{l}</c> and the last one <paramref name="output"/>.</summary>
    /// <exception cref="NotSupportedException">A layer cannot be written as ONNX.</exception>
    public string AddOnnxNodes(IOnnxGraph graph, string input, string output)
    {
        ArgumentNullException.ThrowIfNull(graph);
        string current = input;
        for (int l = 0; l < _layers.Length; l++)
        {
            current = _layers[l] is IOnnxNodes nodes
                ? nodes.AddOnnxNodes(graph, current, l == _layers.Length - 1 ? output : $"layer{l}")
                : throw new NotSupportedException($"ONNX export does not know the layer {_layers[l]}: it does not implement IOnnxNodes.");
        }
        return current == output ? output : graph.Node("Identity", [current], output);
    }

    /// <summary>A deep copy: the same parameter values, its own gradients and buffers.</summary>
    public Sequential<T> Clone() => new([.. _layers.Select(layer => layer.Clone())]);

    IScoreFunction<T> IScoreFunction<T>.Clone() => Clone();

    /// <inheritdoc/>
    public void Forward(ReadOnlyMatrixSpan<T> inputs, MatrixSpan<T> scores)
    {
        if (inputs.Columns != InputCount)
            throw new ArgumentException($"The network takes {InputCount} inputs per sample but the inputs are {inputs.ToString()}.", nameof(inputs));
        if (scores.Rows != inputs.Rows || scores.Columns != ClassCount)
            throw new ArgumentException(
                $"The scores are {scores.ToString()} but {inputs.Rows} samples and {ClassCount} classes need {Shape.Of(inputs.Rows, ClassCount)}.", nameof(scores));
        EnsureCapacity(inputs.Rows);
        ReadOnlyMatrixSpan<T> current = inputs;
        for (int l = 0; l < _layers.Length; l++)
        {
            if (_pooledInPass[l])
            {
                // Convolution, ReLU and max-pooling in one pass: only the pooled values are written.
                var pooled = Output(l + 2, inputs.Rows);
                ((Conv2D<T>)_layers[l]).ForwardPooled(current, pooled);
                current = pooled;
                l += 2;
                continue;
            }
            if (_fusedWithNext[l])
            {
                // max(0, XW + b) written over the product in place: the layer's own output is never
                // stored, since nothing reads it (backward takes the ReLU's mask from its output).
                var activated = Output(l + 1, inputs.Rows);
                if (_layers[l] is Dense<T> dense)
                    dense.ForwardRelu(current, activated, activated);
                else
                    ((Conv2D<T>)_layers[l]).ForwardRelu(current, activated, activated);
                current = activated;
                l++;
                continue;
            }
            var output = Output(l, inputs.Rows);
            _layers[l].Forward(current, output);
            current = output;
        }
        current.Span.CopyTo(scores.Span);
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlyMatrixSpan<T> inputs, ReadOnlyMatrixSpan<T> scoreGradient, MatrixSpan<T> inputGradient)
    {
        int n = inputs.Rows;
        if (n > _capacity)
            throw new InvalidOperationException("Backward needs the forward pass of the same batch first.");
        if (scoreGradient.Rows != n || scoreGradient.Columns != ClassCount)
            throw new ArgumentException(
                $"The score gradient is {scoreGradient.ToString()} but {n} samples and {ClassCount} classes need {Shape.Of(n, ClassCount)}.", nameof(scoreGradient));
        EnsureGradients();
        ReadOnlyMatrixSpan<T> gradient = scoreGradient;
        for (int l = _layers.Length - 1; l >= 0; l--)
        {
            if (l >= 2 && _pooledInPass[l - 2])
            {
                // The pooled pass backward: the convolution's output gradient from the winners it kept, then its own.
                var convInput = l == 2 ? inputs : Stored(l - 3, n);
                var convInputGradient = l == 2 ? inputGradient : Gradient(l - 3, n);
                ((Conv2D<T>)_layers[l - 2]).BackwardPooled(convInput, gradient, Gradient(l - 2, n), convInputGradient);
                gradient = convInputGradient;
                l -= 2;
                continue;
            }
            var input = l == 0 ? inputs : Stored(l - 1, n);
            var inputGradientOfLayer = l == 0 ? inputGradient : Gradient(l - 1, n);
            if (l >= 1 && _layers[l] is MaxPool2D<T> pool && _layers[l - 1] is ActivationLayer<T> { Activation: Relu })
            {
                // ReLU → max-pooling: the pool's backward pass routes only what the ReLU lets through,
                // writing the gradient of the ReLU's input at once.
                var reluInputGradient = l == 1 ? inputGradient : Gradient(l - 2, n);
                pool.BackwardThroughRelu(Output(l - 1, n), Output(l, n), gradient, reluInputGradient);
                gradient = reluInputGradient;
                l--;
                continue;
            }
            if (l >= 2 && _fusedWithNext[l - 2] && _layers[l] is Dense<T> dense)
            {
                // Dense → ReLU → this dense layer: its input gradient and the ReLU's backward pass
                // in one pass (the ReLU's input is the lower dense layer's output).
                dense.BackwardThroughRelu(input, Stored(l, n), gradient, inputGradientOfLayer, Stored(l - 2, n), Gradient(l - 2, n));
                gradient = Gradient(l - 2, n);
                l--;
                continue;
            }
            _layers[l].Backward(input, Stored(l, n), gradient, inputGradientOfLayer);
            gradient = inputGradientOfLayer;
        }
    }

    private void EnsureCapacity(int rows)
    {
        if (rows <= _capacity)
            return;
        for (int l = 0; l < _layers.Length; l++)
        {
            // Line-aligned: C of the next product, whose columns may be split between cores (AlignedMemory).
            _outputs[l] = Unstored(l) ? Memory<T>.Empty : AlignedMemory.Allocate<T>(rows * _layers[l].OutputCount);
            _gradients[l] = Memory<T>.Empty;
        }
        _capacity = rows;
    }

    /// <summary>The gradient buffers, made at the first backward pass of this capacity: a network that only scores never needs them.</summary>
    private void EnsureGradients()
    {
        for (int l = 0; l < _layers.Length; l++)
            if (_gradients[l].Length < _capacity * _layers[l].OutputCount && !ReluInPooledPass(l))
                _gradients[l] = AlignedMemory.Allocate<T>(_capacity * _layers[l].OutputCount);
    }

    /// <summary>
    /// The values one row of a forward pass keeps in this network's buffers: every layer's outputs,
    /// and a pooled convolution's padded image (a convolution's patches are a chunk's at most, not
    /// per row). The scorers size their chunks of rows by it.
    /// </summary>
    internal long ValuesPerRow => _layers.Select((layer, l) =>
        (Unstored(l) ? 0L : layer.OutputCount)
        + (layer is Conv2D<T> c && _pooledInPass[l] ? c.PooledValuesPerImage : 0)).Sum();

    /// <summary>
    /// Whether layer <paramref name="layer"/>'s output is never stored: a layer fused with the ReLU
    /// after it, or the ReLU of a convolution-ReLU-pooling pass.
    /// </summary>
    private bool Unstored(int layer) => _fusedWithNext[layer] || ReluInPooledPass(layer);

    /// <summary>Whether layer <paramref name="layer"/> is the ReLU inside a convolution-ReLU-pooling pass (no output, no gradient).</summary>
    private bool ReluInPooledPass(int layer) => layer >= 1 && _pooledInPass[layer - 1];

    /// <summary>Whether layer <paramref name="layer"/> is a convolution that runs with the ReLU and pooling after it as one pass (for tests).</summary>
    internal bool RunsPooled(int layer) => _pooledInPass[layer];

    private MatrixSpan<T> Output(int layer, int rows) => new(_outputs[layer].Span, rows, _layers[layer].OutputCount);

    /// <summary>
    /// What backward reads as layer <paramref name="layer"/>'s output: its own, or for a layer fused
    /// with the ReLU after it (which keeps no output of its own) the ReLU's — read only as a mask
    /// (x &gt; 0 exactly where max(0, x) &gt; 0) or for its shape.
    /// </summary>
    private MatrixSpan<T> Stored(int layer, int rows) => _fusedWithNext[layer] ? Output(layer + 1, rows) : Output(layer, rows);

    private MatrixSpan<T> Gradient(int layer, int rows) => new(_gradients[layer].Span, rows, _layers[layer].OutputCount);

    /// <inheritdoc/>
    public override string ToString() => "Sequential(" + string.Join(", ", _layers.Select(l => l.ToString())) + ")";
}
