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
/// var cnn = new NetworkBuilder&lt;float&gt;(new ImageShape(1, 28, 28), seed: 1)
///     .Conv2D(32, 3, padding: 1, new Relu()).MaxPool2D(2)
///     .Conv2D(64, 3, padding: 1, new Relu()).MaxPool2D(2)
///     .Flatten().Dense(128, new Relu()).Dense(10)
///     .Build();
/// </code>
/// </example>
public sealed class NetworkBuilder<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<ILayer<T>> _layers = [];
    private readonly int _seed;
    private int _width;
    private ImageShape? _image;

    /// <summary>Starts a network taking <paramref name="inputs"/> features per sample.</summary>
    public NetworkBuilder(int inputs, int seed = 0)
    {
        _width = Guard.AtLeast(inputs, 1, "The number of inputs");
        _seed = seed;
    }

    /// <summary>
    /// Starts a network taking images of <paramref name="input"/>'s shape, one per row, channels last
    /// (<see cref="ImageShape"/>): a 28 x 28 gray image is its 784 pixels in reading order.
    /// </summary>
    public NetworkBuilder(ImageShape input, int seed = 0)
        : this(input.Validated(nameof(input)).Count, seed) => _image = input;

    /// <summary>The shape of the images at this point of the network, or null once it is flat (after a dense layer or <see cref="Flatten"/>).</summary>
    public ImageShape? Image => _image;

    /// <summary>
    /// Adds a convolution (<see cref="Conv2D{T}"/>) of <paramref name="filters"/> filters of
    /// <paramref name="kernelSize"/> x <paramref name="kernelSize"/> over the current images, padded
    /// with <paramref name="padding"/> zeros and moved <paramref name="stride"/> pixels at a time,
    /// followed by <paramref name="activation"/> when given; He initialization before ReLU and leaky
    /// ReLU, Glorot otherwise, unless told.
    /// </summary>
    /// <exception cref="InvalidOperationException">The network is not carrying images here.</exception>
    public NetworkBuilder<T> Conv2D(int filters, int kernelSize, int padding = 0, IActivation? activation = null, int stride = 1, WeightInit? init = null)
    {
        var layer = new Conv2D<T>(RequireImage("A convolution"), filters, kernelSize, stride, padding, init ?? InitBefore(activation), NextSeed, NextPrefix);
        _layers.Add(layer);
        (_width, _image) = (layer.OutputCount, layer.OutputShape);
        return AddActivation(activation);
    }

    /// <summary>Adds max pooling (<see cref="MaxPool2D{T}"/>) over blocks of <paramref name="size"/> x <paramref name="size"/> pixels.</summary>
    /// <exception cref="InvalidOperationException">The network is not carrying images here.</exception>
    public NetworkBuilder<T> MaxPool2D(int size)
    {
        var layer = new MaxPool2D<T>(RequireImage("Max pooling"), size);
        _layers.Add(layer);
        (_width, _image) = (layer.OutputCount, layer.OutputShape);
        return this;
    }

    /// <summary>
    /// Ends the images: from here the network sees each row as flat features. The values do not
    /// move (rows are already flat, channels last), so this adds no layer; a dense layer flattens
    /// on its own too.
    /// </summary>
    public NetworkBuilder<T> Flatten()
    {
        _image = null;
        return this;
    }

    /// <summary>The next layer's seed, derived from the builder's and the layer's place.</summary>
    private int NextSeed => _seed + 7919 * (_layers.Count + 1);

    /// <summary>The next layer's parameter-name prefix, unique in this network.</summary>
    private string NextPrefix => $"{_layers.Count}.";

    /// <summary>He initialization before ReLU and leaky ReLU, Glorot before anything else (or nothing).</summary>
    private static WeightInit InitBefore(IActivation? activation) => activation is Relu or LeakyRelu ? WeightInit.He : WeightInit.Glorot;

    /// <summary>Adds <paramref name="activation"/> at the current width, when there is one.</summary>
    private NetworkBuilder<T> AddActivation(IActivation? activation)
    {
        if (activation is not null)
            _layers.Add(new ActivationLayer<T>(activation, _width));
        return this;
    }

    private ImageShape RequireImage(string what) => _image ??
        throw new InvalidOperationException($"{what} needs images: start the network with NetworkBuilder(ImageShape), and put it before any dense layer or Flatten.");

    /// <summary>
    /// Adds a fully connected layer of <paramref name="units"/> outputs, followed by
    /// <paramref name="activation"/> when given (none: a linear layer, as the output layer is).
    /// </summary>
    public NetworkBuilder<T> Dense(int units, IActivation? activation = null, WeightInit? init = null)
    {
        _layers.Add(new Dense<T>(_width, units, init ?? InitBefore(activation), NextSeed, NextPrefix));
        (_width, _image) = (units, null);
        return AddActivation(activation);
    }

    /// <summary>Adds a maxout layer of <paramref name="units"/> outputs with <paramref name="pieces"/> linear pieces each (He initialization unless told otherwise).</summary>
    public NetworkBuilder<T> Maxout(int units, int pieces = 2, WeightInit? init = null)
    {
        _layers.Add(new Maxout<T>(_width, units, pieces, init ?? WeightInit.He, NextSeed, NextPrefix));
        (_width, _image) = (units, null);
        return this;
    }

    /// <summary>
    /// Adds a parametric ReLU (<see cref="PRelu{T}"/>) with a learned slope per unit, starting at
    /// <paramref name="initialSlope"/>. Give the layer before it He initialization:
    /// <c>.Dense(256, init: WeightInit.He).PRelu()</c>.
    /// </summary>
    public NetworkBuilder<T> PRelu(double initialSlope = 0.25)
    {
        _layers.Add(new PRelu<T>(_width, initialSlope, NextPrefix));
        return this;
    }

    /// <summary>Adds inverted dropout (<see cref="Dropout{T}"/>) dropping each value with probability <paramref name="rate"/> while training.</summary>
    public NetworkBuilder<T> Dropout(double rate)
    {
        _layers.Add(new Dropout<T>(_width, rate, NextSeed));
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
        var layer = create(_width, NextPrefix) ?? throw new ArgumentException("The layer factory returned null.", nameof(create));
        if (layer.InputCount != _width)
            throw new ArgumentException($"The layer {layer} takes {layer.InputCount} inputs but the network is {_width} wide here.", nameof(create));
        _layers.Add(layer);
        if (layer.OutputCount != _width)
            _image = null;
        _width = layer.OutputCount;
        return this;
    }

    /// <summary>The network.</summary>
    /// <exception cref="ArgumentException">No layers, or the last layer has fewer than 2 outputs.</exception>
    public Sequential<T> Build() => new([.. _layers]);
}
