using System.Numerics;
using NeuralBasics.Components;

namespace NeuralBasics.Layers;

/// <summary>
/// Inverted dropout (Srivastava et al. 2014, as CS231n describes it): while training, each value is
/// kept with probability 1 − p and scaled by 1/(1 − p), or set to 0; at inference the layer passes
/// its input through unchanged, since the scaling already kept the expected value.
/// </summary>
/// <remarks>
/// <para>
/// Backward multiplies the gradient by the same mask. The masks come from the layer's own seeded
/// generator (xorshift64*), one draw per value in row-major order, so a seeded run is reproducible;
/// the mask buffer grows to the largest batch once and is reused (no allocation per step). The
/// trainer turns training behaviour on only around its gradient computation (<see cref="ITrainingMode"/>).
/// </para>
/// <para>
/// A resumed checkpoint restarts the mask stream from the seed, so a resumed run with dropout is
/// statistically, not bitwise, the same as an uninterrupted one. Replicas of a synchronous
/// data-parallel step draw the same stream for their shards.
/// </para>
/// </remarks>
public sealed class Dropout<T> : ILayer<T>, ITrainingMode, IDescribedComponent, IOnnxNodes
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly uint _threshold;
    private readonly T _scale;
    private ulong _state;
    private T[] _mask = [];

    /// <summary>A dropout layer over <paramref name="size"/> values dropping each with probability <paramref name="rate"/>.</summary>
    /// <param name="size">Values per sample.</param>
    /// <param name="rate">p, the probability of dropping a value, in [0, 1) (0.5 is the paper's for hidden units).</param>
    /// <param name="seed">The mask generator's seed.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is below 1 or <paramref name="rate"/> is outside [0, 1).</exception>
    public Dropout(int size, double rate, int seed = 0)
    {
        InputCount = Guard.AtLeast(size, 1, "The layer size", nameof(size));
        if (!(rate >= 0 && rate < 1))
            throw new ArgumentOutOfRangeException(nameof(rate), rate, "The dropout rate p must be in [0, 1).");
        Rate = rate;
        Seed = seed;
        _threshold = (uint)Math.Min(uint.MaxValue, Math.Round(rate * 4294967296.0));
        _scale = T.CreateChecked(1 / (1 - rate));
        _state = Mix((ulong)(uint)seed);
    }

    /// <summary>p, the probability of dropping each value while training.</summary>
    public double Rate { get; }

    /// <summary>The mask generator's seed.</summary>
    public int Seed { get; }

    /// <inheritdoc/>
    public bool IsTraining { get; set; }

    /// <inheritdoc/>
    public int InputCount { get; }

    /// <inheritdoc/>
    public int OutputCount => InputCount;

    /// <inheritdoc/>
    public IReadOnlyList<Parameter<T>> Parameters => [];

    /// <inheritdoc/>
    public void Forward(ReadOnlyMatrixSpan<T> input, MatrixSpan<T> output)
    {
        LayerChecks.Forward(this, input, output);
        var x = input.Span;
        var y = output.Span;
        if (!IsTraining || Rate == 0)
        {
            x.CopyTo(y);
            return;
        }
        if (_mask.Length < x.Length)
            _mask = new T[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            // Keep when the draw is at or above p·2³².
            T m = Next() >= _threshold ? _scale : T.Zero;
            _mask[i] = m;
            y[i] = x[i] * m;
        }
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlyMatrixSpan<T> input, ReadOnlyMatrixSpan<T> output, ReadOnlyMatrixSpan<T> outputGradient, MatrixSpan<T> inputGradient)
    {
        LayerChecks.Backward(this, input, output, outputGradient, inputGradient);
        if (inputGradient.IsEmpty)
            return;
        var dy = outputGradient.Span;
        var dx = inputGradient.Span;
        if (!IsTraining || Rate == 0)
        {
            dy.CopyTo(dx);
            return;
        }
        for (int i = 0; i < dy.Length; i++)
            dx[i] = dy[i] * _mask[i];
    }


    /// <inheritdoc/>
    public string Kind => "dropout";

    /// <inheritdoc/>
    public void Describe(ComponentDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        description.Set("size", InputCount);
        description.Set("rate", Rate);
        description.Set("seed", Seed);
    }

    /// <summary>Nothing: dropout is the identity at inference.</summary>
    public string AddOnnxNodes(IOnnxGraph graph, string input, string output) => input;

    /// <summary>A copy with the same rate, seed and generator position, in inference mode.</summary>
    public ILayer<T> Clone() => new Dropout<T>(InputCount, Rate, Seed) { _state = _state };

    /// <inheritdoc/>
    public override string ToString() => $"Dropout({InputCount}, p = {Rate})";

    /// <summary>xorshift64* (Vigna 2016): the high 32 bits of the next value.</summary>
    private uint Next()
    {
        _state ^= _state >> 12;
        _state ^= _state << 25;
        _state ^= _state >> 27;
        return (uint)((_state * 0x2545F4914F6CDD1DUL) >> 32);
    }

    /// <summary>SplitMix64's finalizer: a nonzero, well-mixed state from any seed.</summary>
    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return z == 0 ? 0x9E3779B97F4A7C15UL : z;
    }
}

/// <summary>Reads a <see cref="Dropout{T}"/> layer: size, rate and seed.</summary>
internal sealed class DropoutReader : ILayerReader
{
    public IEnumerable<ParameterShape> Parameters(ComponentDescription description) => [];

    public ILayer<T> Read<T>(ComponentDescription description)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double rate = description.Number("rate");
        if (rate is not (>= 0 and < 1))
            throw new InvalidDataException($"A dropout rate is {rate}; it must be in [0, 1).");
        return new Dropout<T>(description.Count("size"), rate, description.Int("seed"));
    }
}
