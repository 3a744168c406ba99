namespace NeuralBasics.Training;

/// <summary>
/// The trainer's shuffling generator: SplitMix64 (Steele, Lea and Flood, 2014), whose whole state
/// is one 64-bit number, so a checkpoint can store it and a resumed run shuffles exactly as an
/// uninterrupted one. (<see cref="Random"/> does not expose its state.)
/// </summary>
internal sealed class ShuffleRandom(ulong state)
{
    /// <summary>The complete state.</summary>
    public ulong State { get; private set; } = state;

    public ulong Next()
    {
        ulong z = State += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, <paramref name="bound"/>), without modulo bias (Lemire's method with rejection).</summary>
    public int NextInt(int bound)
    {
        ulong range = (ulong)bound;
        while (true)
        {
            UInt128 product = (UInt128)Next() * range;
            ulong low = (ulong)product;
            if (low >= (0UL - range) % range)
                return (int)(product >> 64);
        }
    }

    /// <summary>Fisher–Yates: every permutation equally likely.</summary>
    public void Shuffle(Span<int> values)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    /// <summary>Writes the generator's position as a checkpoint's <c>random_state</c>.</summary>
    public void Write(Dictionary<string, string> metadata) => metadata["random_state"] = State.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The generator at the position a checkpoint holds (any 64-bit value is a valid position).</summary>
    /// <exception cref="FormatException">The entry is not a 64-bit unsigned number.</exception>
    public static ShuffleRandom Read(Dictionary<string, string> metadata) =>
        new(ulong.Parse(Models.ModelFile.Required(metadata, "random_state"), System.Globalization.CultureInfo.InvariantCulture));
}
