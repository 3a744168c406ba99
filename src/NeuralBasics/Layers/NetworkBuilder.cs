using System.Numerics;
using NeuralBasics.Activations;

namespace NeuralBasics.Layers;

/// <summary>
/// Builds a <see cref="Sequential{T}"/> layer by layer, choosing each layer's weight
/// initialization from the activation that follows it: He for ReLU, leaky ReLU and maxout, Glorot
/// for sigmoid, tanh and the linear output layer, unless told otherwise. Each layer gets its own
/// seed derived from the builder's, so a seeded network is reproducible.
/// </summary>
/// <example>
/// <code>
/// var net = new NetworkBuilder&lt;float&gt;(inputs: 784, seed: 1)
///     .Dense(256, new Relu())
///     .Dense(10)                 // the class scores
///     .Build();
/// </code>
/// </example>
public sealed class NetworkBuilder<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<ILayer<T>> _layers = [];
    private readonly int _seed;
    private int _width;

    /// <summary>Starts a network taking <paramref name="inputs"/> features per sample.</summary>
    public NetworkBuilder(int inputs, int seed = 0)
    {
        _width = Guard.AtLeast(inputs, 1, "The number of inputs");
        _seed = seed;
    }

    /// <summary>
    /// Adds a fully connected layer of <paramref name="units"/> outputs, followed by
    /// <paramref name="activation"/> when given (none: a linear layer, as the output layer is).
    /// </summary>
    public NetworkBuilder<T> Dense(int units, IActivation? activation = null, WeightInit? init = null)
    {
        init ??= activation is Relu or LeakyRelu ? WeightInit.He : WeightInit.Glorot;
        string prefix = $"{_layers.Count}.";
        _layers.Add(new Dense<T>(_width, units, init, _seed + 7919 * (_layers.Count + 1), prefix));
        _width = units;
        if (activation is not null)
            _layers.Add(new ActivationLayer<T>(activation, units));
        return this;
    }

    /// <summary>Adds a maxout layer of <paramref name="units"/> outputs with <paramref name="pieces"/> linear pieces each (He initialization unless told otherwise).</summary>
    public NetworkBuilder<T> Maxout(int units, int pieces = 2, WeightInit? init = null)
    {
        string prefix = $"{_layers.Count}.";
        _layers.Add(new Maxout<T>(_width, units, pieces, init ?? WeightInit.He, _seed + 7919 * (_layers.Count + 1), prefix));
        _width = units;
        return this;
    }

    /// <summary>
    /// Adds a parametric ReLU (<see cref="PRelu{T}"/>) with a learned slope per unit, starting at
    /// <paramref name="initialSlope"/>. Give the layer before it He initialization:
    /// <c>.Dense(256, init: WeightInit.He).PRelu()</c>.
    /// </summary>
    public NetworkBuilder<T> PRelu(double initialSlope = 0.25)
    {
        _layers.Add(new PRelu<T>(_width, initialSlope, $"{_layers.Count}."));
        return this;
    }

    /// <summary>Adds inverted dropout (<see cref="Dropout{T}"/>) dropping each value with probability <paramref name="rate"/> while training.</summary>
    public NetworkBuilder<T> Dropout(double rate)
    {
        _layers.Add(new Dropout<T>(_width, rate, _seed + 7919 * (_layers.Count + 1)));
        return this;
    }

    /// <summary>Adds an activation on its own.</summary>
    public NetworkBuilder<T> Activation(IActivation activation)
    {
        _layers.Add(new ActivationLayer<T>(activation, _width));
        return this;
    }

    /// <summary>
    /// Adds a layer of your own: <paramref name="create"/> gets the current width (the layer's input
    /// count) and a parameter-name prefix unique in this network, and returns the layer. To save,
    /// load and export it, the layer implements <see cref="Components.IDescribedComponent"/> (and
    /// <see cref="Components.IOnnxNodes"/>) and its reader is registered once with
    /// <see cref="Serialization.ComponentRegistry.RegisterLayer"/>.
    /// </summary>
    /// <example><c>.Dense(64).Add((width, prefix) =&gt; new Scale&lt;float&gt;(width, prefix)).Activation(new Relu())</c></example>
    /// <exception cref="ArgumentException">The layer does not take the current width as its input count.</exception>
    public NetworkBuilder<T> Add(Func<int, string, ILayer<T>> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        var layer = create(_width, $"{_layers.Count}.") ?? throw new ArgumentException("The layer factory returned null.", nameof(create));
        if (layer.InputCount != _width)
            throw new ArgumentException($"The layer {layer} takes {layer.InputCount} inputs but the network is {_width} wide here.", nameof(create));
        _layers.Add(layer);
        _width = layer.OutputCount;
        return this;
    }

    /// <summary>The network.</summary>
    /// <exception cref="ArgumentException">No layers, or the last layer has fewer than 2 outputs.</exception>
    public Sequential<T> Build() => new([.. _layers]);
}
