using NeuralBasics.Components;

namespace NeuralBasics.Layers;

/// <summary>
/// The shape of one image in a network's rows: <see cref="Height"/> x <see cref="Width"/> pixels of
/// <see cref="Channels"/> values each, stored channels-last — row r of a batch holds pixel (y, x)'s
/// channel c at <c>(y·Width + x)·Channels + c</c>, the layout of Keras and TensorFlow. A gray image
/// (one channel), as Fashion-MNIST's 28 x 28 rows, is simply its pixels in reading order.
/// </summary>
/// <param name="Channels">Values per pixel, at least 1.</param>
/// <param name="Height">Rows of pixels, at least 1.</param>
/// <param name="Width">Columns of pixels, at least 1.</param>
public readonly record struct ImageShape(int Channels, int Height, int Width)
{
    /// <summary>The values in one image: channels x height x width.</summary>
    public int Count => checked(Channels * Height * Width);

    /// <summary>Throws unless every side is at least 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A side below 1.</exception>
    internal ImageShape Validated(string name)
    {
        if (Channels < 1 || Height < 1 || Width < 1)
            throw new ArgumentOutOfRangeException(name, $"An image has at least one channel, row and column, not {this}.");
        return this;
    }

    /// <summary>Writes the shape into an image layer's description (channels, height, width).</summary>
    internal void Describe(ComponentDescription description)
    {
        description.Set("channels", Channels);
        description.Set("height", Height);
        description.Set("width", Width);
    }

    /// <summary>The shape an image layer's description holds (<see cref="Describe"/>).</summary>
    internal static ImageShape Read(ComponentDescription description) =>
        new(description.Count("channels"), description.Count("height"), description.Count("width"));

    /// <inheritdoc/>
    public override string ToString() => $"{Channels}x{Height}x{Width} (channels x height x width)";
}
