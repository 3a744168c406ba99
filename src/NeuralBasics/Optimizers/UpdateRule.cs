using System.Numerics;
using System.Numerics.Tensors;
using NeuralBasics.Components;

namespace NeuralBasics.Optimizers;

/// <summary>
/// An update rule (optimizer): an immutable set of hyperparameters that turns a gradient into a
/// parameter change. It creates a state per parameter tensor with <see cref="CreateState{T}"/>
/// and applies one step with <see cref="Apply{T}"/>; changing a hyperparameter means making a new
/// rule (<c>rule with { LearningRate = 0.01 }</c>).
/// </summary>
public abstract record UpdateRule : IDescribedComponent
{
    /// <summary>The rule's type name: what a checkpoint records it as.</summary>
    string IDescribedComponent.Kind => GetType().Name;

    void IDescribedComponent.Describe(ComponentDescription description) => Describe(description);

    /// <summary>
    /// Writes the hyperparameters (here the learning rate), which a checkpoint records so that a
    /// resumed run with other ones is refused. A rule of your own overrides this, calling the base,
    /// and writes each of its hyperparameters.
    /// </summary>
    protected virtual void Describe(ComponentDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        description.SetComponent("learning_rate", LearningRate);
    }

    private readonly LearningRateSchedule _learningRate;

    /// <summary>Sets the learning rate every rule has.</summary>
    protected UpdateRule(LearningRateSchedule learningRate)
    {
        ArgumentNullException.ThrowIfNull(learningRate);
        _learningRate = learningRate;
    }

    /// <summary>Creates the state for one parameter tensor of <paramref name="length"/> elements.</summary>
    public abstract UpdateState CreateState<T>(int length)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// Updates <paramref name="parameters"/> in place from <paramref name="gradient"/> and advances
    /// <paramref name="state"/> by one step.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The lengths differ, the state belongs to another rule or tensor size, the buffers overlap, or
    /// the gradient holds NaN or ∞. The parameters and state are untouched when it throws.
    /// </exception>
    public void Apply<T>(Span<T> parameters, ReadOnlySpan<T> gradient, UpdateState state)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(state);
        if (gradient.Length != parameters.Length)
            throw new ArgumentException(
                $"The gradient has {gradient.Length} elements but the parameters have {parameters.Length}.", nameof(gradient));
        if (state.Length != parameters.Length)
            throw new ArgumentException(
                $"The state was made for {state.Length} parameters but {parameters.Length} were given.", nameof(state));
        if (gradient.Overlaps(parameters))
            throw new ArgumentException("The gradient overlaps the parameters.", nameof(gradient));
        if (!TensorPrimitives.IsFiniteAll(gradient))
        {
            int bad = 0;
            while (T.IsFinite(gradient[bad]))
                bad++;
            throw new ArgumentException($"Gradient element {bad} is {gradient[bad]}; an update needs a finite gradient.", nameof(gradient));
        }
        double learningRate = LearningRateOf<T>(state);
        BeginStep(parameters, state, learningRate);
        ApplyCore(parameters, gradient, state, 0, learningRate);
        state.Step++;
    }

    /// <summary>
    /// The learning rate of <paramref name="state"/>'s next step. A scheduled rate that has decayed
    /// below T's normal range would make every multiplication by it subnormal (slow on x86); it
    /// moves no weight a float can show, so it is zero.
    /// </summary>
    /// <param name="state">The tensor's state (its step count).</param>
    /// <param name="scale">A multiplier applied before the check (reduce-on-plateau's; 1 by default).</param>
    internal double LearningRateOf<T>(UpdateState state, double scale = 1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double learningRate = LearningRate.At(state.Step) * scale;
        return Math.Abs(learningRate) < double.CreateChecked(Kernels.Subnormal<T>.SmallestNormal) ? 0 : learningRate;
    }

    /// <summary>
    /// One step on the slice [<paramref name="offset"/>, offset + length) of a tensor, for a caller
    /// that splits one tensor's update across threads: nothing is checked (the caller has checked
    /// the whole tensor and its gradient), and the caller advances <see cref="UpdateState.Step"/>
    /// once every slice is done, with <paramref name="learningRate"/> from <see cref="LearningRateOf{T}"/>.
    /// </summary>
    internal void ApplySlice<T>(Span<T> parameters, ReadOnlySpan<T> gradient, UpdateState state, int offset, double learningRate)
        where T : unmanaged, IFloatingPointIeee754<T>
        => ApplyCore(parameters, gradient, state, offset, learningRate);

    /// <summary>The learning rate, constant or scheduled by the step count; a number converts to a constant.</summary>
    public LearningRateSchedule LearningRate
    {
        get => _learningRate;
        init => _learningRate = value ?? throw new ArgumentNullException(nameof(LearningRate));
    }

    /// <summary>
    /// The start of one step on a whole tensor, before <see cref="ApplyCore{T}"/> runs on it (perhaps
    /// in slices, on several threads): called once per tensor and step, on one thread, with the
    /// step's learning rate, while <see cref="UpdateState.Step"/> still counts the steps before it.
    /// A rule advances per-step bookkeeping here (Nadam's momentum product) or changes the whole
    /// tensor first (AdamW's decay). Nothing by default.
    /// </summary>
    protected internal virtual void BeginStep<T>(Span<T> parameters, UpdateState state, double learningRate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
    }

    /// <summary>
    /// One step for already-checked arguments, with this step's learning rate
    /// <paramref name="learningRate"/>, on the elements [<paramref name="offset"/>, offset +
    /// parameters.Length) of the tensor <paramref name="state"/> belongs to: <paramref name="parameters"/>
    /// and <paramref name="gradient"/> are that slice, and the rule uses the same slice of its
    /// state arrays (a large tensor's update may be split across threads). It must not allocate,
    /// nor change <see cref="UpdateState.Step"/> (the caller advances it once per tensor).
    /// </summary>
    protected abstract void ApplyCore<T>(Span<T> parameters, ReadOnlySpan<T> gradient, UpdateState state, int offset, double learningRate)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Casts the state to the rule's own type, or explains what went wrong.</summary>
    protected static TState StateAs<TState>(UpdateState state)
        where TState : UpdateState
        => state as TState ?? throw new ArgumentException(
            $"The state is a {state.GetType().Name} but this rule needs a {typeof(TState).Name}; create it with this rule's CreateState.", nameof(state));
}
