using System.Numerics;
using NeuralBasics.Optimizers;

namespace NeuralBasics.Training;

/// <summary>
/// The second pass: one update-rule step on every tensor, over the same blocks as
/// <see cref="GradientPreparation{T}"/>, from gradients it found finite. The rule owns one state per
/// tensor; each tensor's step count advances once, after all its blocks.
/// </summary>
internal sealed class RuleApplication<T> : BlockPass<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly UpdateRule _rule;
    private readonly UpdateState[] _states;
    private readonly double[] _learningRates;

    public RuleApplication(IReadOnlyList<Parameter<T>> parameters, UpdateRule rule)
        : base(parameters)
    {
        _rule = rule;
        _states = [.. parameters.Select(p => rule.CreateState<T>(p.Value.Span.Length) with { IsWeight = p.IsRegularized })];
        _learningRates = new double[parameters.Count];
    }

    /// <summary>The rule's state of each tensor, in parameter order.</summary>
    public IReadOnlyList<UpdateState> States => _states;

    /// <summary>A multiplier on every learning rate (reduce-on-plateau); 1 by default.</summary>
    public double Scale { get; set; } = 1;

    /// <summary>Each tensor's learning rate of the coming step, filled by <see cref="PrepareStep"/>.</summary>
    public double[] LearningRates => _learningRates;

    /// <summary>The rule's learning rate of the coming step for every tensor (its step count, times <see cref="Scale"/>).</summary>
    public void PrepareStep()
    {
        for (int k = 0; k < _states.Length; k++)
            _learningRates[k] = _rule.LearningRateOf<T>(_states[k], Scale);
    }

    /// <summary>The step prepared by <see cref="PrepareStep"/>: the rule's start on each tensor, then its update in blocks on every core.</summary>
    public void Run()
    {
        for (int k = 0; k < _states.Length; k++)
            _rule.BeginStep(Parameters[k].Value.Span, _states[k], _learningRates[k]);
        RunAllBlocks();
        foreach (var state in _states)
            state.Step++;
    }

    protected override void RunBlock(int block, int tensor, int start, int length)
    {
        var p = Parameters[tensor];
        _rule.ApplySlice(p.Value.Span.Slice(start, length), p.Gradient.Span.Slice(start, length), _states[tensor], start, _learningRates[tensor]);
    }
}
