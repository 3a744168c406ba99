namespace NeuralBasics.Benchmarks;

/// <summary>A benchmark parameter that knows how many floating-point operations one call does (read by <see cref="GflopsColumn"/>).</summary>
public interface IHasFlops
{
    /// <summary>The floating-point operations of one benchmarked call.</summary>
    double Flops { get; }
}

/// <summary>One benchmarked product: C [M x N] = op(A) · B with inner dimension K.</summary>
public sealed record GemmShape(string Name, int M, int K, int N, bool TransposeA = false) : IHasFlops
{
    /// <summary>Floating-point operations of one product: a multiply and an add per term.</summary>
    public double Flops => 2.0 * M * N * K;

    public override string ToString() => Name;

    public static GemmShape Square(int n) => new($"{n}x{n}x{n}", n, n, n);

    /// <summary>
    /// The shapes to run: all of <see cref="Standard"/>, or only those whose names the environment
    /// variable <c>NEURALBASICS_SHAPES</c> lists (comma-separated, e.g. <c>512x512x512</c>).
    /// </summary>
    public static IEnumerable<GemmShape> All()
    {
        string? wanted = Environment.GetEnvironmentVariable("NEURALBASICS_SHAPES");
        if (string.IsNullOrWhiteSpace(wanted))
            return Standard();
        var names = wanted.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var chosen = Standard().Where(s => names.Contains(s.Name)).ToList();
        if (chosen.Count == 0)
            throw new ArgumentException(
                $"NEURALBASICS_SHAPES='{wanted}' names no known shape; known: {string.Join(", ", Standard())}.");
        return chosen;
    }

    /// <summary>The square sizes and the shapes a 784-256-10 network trains with at batch 128.</summary>
    public static IEnumerable<GemmShape> Standard()
    {
        foreach (int n in new[] { 64, 128, 256, 512, 1024 })
            yield return Square(n);
        yield return new("[128x784]·[784x256]", 128, 784, 256);
        yield return new("[128x256]·[256x10]", 128, 256, 10);
        yield return new("[784x128]ᵀ·[128x256]", 784, 128, 256, TransposeA: true);
    }
}
