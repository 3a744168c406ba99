namespace NeuralBasics.Optimizers;

/// <summary>The state of <see cref="Adam"/>: the first and second moment estimates.</summary>
public sealed record AdamState<T>(int Length) : UpdateState(Length)
{
    /// <summary>The first moment m (moving average of gradients), zero at first.</summary>
    public T[] M { get; } = new T[Length];

    /// <summary>The second moment v (moving average of squared gradients), zero at first.</summary>
    public T[] V { get; } = new T[Length];

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, Array>> Buffers => [new("M", M), new("V", V)];
}
