namespace NeuralBasics.Optimizers;

/// <summary>The state of <see cref="Momentum"/> and <see cref="Nesterov"/>: the velocity per weight.</summary>
public sealed record VelocityState<T>(int Length) : UpdateState(Length)
{
    /// <summary>The velocity <c>v</c>, zero at first.</summary>
    public T[] Velocity { get; } = new T[Length];

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, Array>> Buffers => [new("Velocity", Velocity)];
}
