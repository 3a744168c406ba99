namespace NeuralBasics.Optimizers;

/// <summary>The state of <see cref="AdaDelta"/>: running averages of squared gradients and squared updates.</summary>
public sealed record AdaDeltaState<T>(int Length) : UpdateState(Length)
{
    /// <summary>E[g²], zero at first.</summary>
    public T[] SquaredGradients { get; } = new T[Length];

    /// <summary>E[Δ²], zero at first.</summary>
    public T[] SquaredUpdates { get; } = new T[Length];

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, Array>> Buffers => [new("SquaredGradients", SquaredGradients), new("SquaredUpdates", SquaredUpdates)];
}
