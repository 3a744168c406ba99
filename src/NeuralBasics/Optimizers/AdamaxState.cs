namespace NeuralBasics.Optimizers;

/// <summary>The state of <see cref="Adamax"/>: the first moment and the exponentially weighted infinity norm.</summary>
public sealed record AdamaxState<T>(int Length) : UpdateState(Length)
{
    /// <summary>The first moment m, zero at first.</summary>
    public T[] M { get; } = new T[Length];

    /// <summary>The weighted infinity norm u, zero at first.</summary>
    public T[] U { get; } = new T[Length];

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, Array>> Buffers => [new("M", M), new("U", U)];
}
