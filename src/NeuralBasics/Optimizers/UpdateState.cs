namespace NeuralBasics.Optimizers;

/// <summary>
/// The per-parameter state of an update rule, sized to one parameter tensor: the step count and
/// whatever the rule keeps (velocity, caches, moments). It is separate from the rule so one rule
/// serves many tensors, and explicit so it can be inspected and saved with the model.
/// </summary>
public abstract record UpdateState
{
    /// <summary>Creates a state for a tensor of <paramref name="length"/> elements.</summary>
    protected UpdateState(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
    }

    /// <summary>The number of elements of the parameter tensor this state belongs to.</summary>
    public int Length { get; }

    /// <summary>How many steps have been applied; the learning rate schedule reads it.</summary>
    public long Step { get; set; }

    /// <summary>
    /// Whether the tensor is a weight (true) or a bias: rules that shrink weights directly, such as
    /// <see cref="AdamW"/>'s decoupled decay, leave biases alone. The trainer sets it from
    /// <see cref="Parameter{T}.IsRegularized"/>; a state made by hand, or by a parameter server that
    /// sees bare tensors, is a weight.
    /// </summary>
    public bool IsWeight { get; init; } = true;

    /// <summary>
    /// The state's arrays by name (for example "M" and "V" for Adam), each as long as the
    /// parameter tensor, so a checkpoint can save and restore them. Empty when the rule keeps
    /// nothing but the step count.
    /// </summary>
    public virtual IReadOnlyList<KeyValuePair<string, Array>> Buffers => [];

    /// <summary>
    /// The state's numbers that are not per element (for example Nadam's product of momentum
    /// coefficients), by name, so a checkpoint can save and restore them. Empty for most rules.
    /// </summary>
    public virtual IReadOnlyList<KeyValuePair<string, double>> Scalars => [];

    /// <summary>Restores a value of <see cref="Scalars"/> read from a checkpoint (after <see cref="Step"/>).</summary>
    /// <exception cref="ArgumentException">The state has no such number, or the value is out of its range.</exception>
    public virtual void RestoreScalar(string name, double value) =>
        throw new ArgumentException($"{GetType().Name} keeps no number called \"{name}\".", nameof(name));
}
