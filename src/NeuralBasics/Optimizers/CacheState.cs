namespace NeuralBasics.Optimizers;

/// <summary>The state of <see cref="AdaGrad"/> and <see cref="RmsProp"/>: the cache of squared gradients.</summary>
public sealed record CacheState<T>(int Length) : UpdateState(Length)
{
    /// <summary>The cache, zero at first.</summary>
    public T[] Cache { get; } = new T[Length];

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, Array>> Buffers => [new("Cache", Cache)];
}
