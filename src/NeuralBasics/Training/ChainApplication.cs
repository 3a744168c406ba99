using System.Numerics;
using NeuralBasics.Optimizers;

namespace NeuralBasics.Training;

/// <summary>
/// The one piece of code that runs an <see cref="UpdateChain"/> after a gradient: each transform
/// with its own per-tensor states and the step's learning rates, then the rule over blocks of all
/// tensors on every core. <see cref="TrainingStep{T}"/> and the synchronous worker run a step
/// through it; a Downpour worker, whose rule runs at the parameter server, runs only the
/// transforms (<see cref="RunTransforms"/>).
/// </summary>
internal sealed class ChainApplication<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IReadOnlyList<IGradientTransform> _transforms;
    private readonly UpdateState?[][] _transformStates;
    private readonly RuleApplication<T>? _rule;
    private readonly TransformStep<T> _step;

    /// <summary>The chain over <paramref name="parameters"/>; without the rule (<paramref name="withRule"/> false) where the rule runs elsewhere.</summary>
    public ChainApplication(IReadOnlyList<Parameter<T>> parameters, UpdateChain chain, bool withRule = true)
    {
        _transforms = chain.Transforms;
        _transformStates = [.. _transforms.Select(t => parameters.Select(p => t.CreateState<T>(p.Value.Span.Length)).ToArray())];
        if (withRule)
        {
            _rule = new RuleApplication<T>(parameters, chain.Rule);
            _step = new TransformStep<T>(parameters, _rule.LearningRates);
        }
        else
        {
            var unknown = new double[parameters.Count];
            Array.Fill(unknown, double.NaN);
            _step = new TransformStep<T>(parameters, unknown);
        }
    }

    /// <summary>The rule's state of each tensor (empty without the rule).</summary>
    public IReadOnlyList<UpdateState> States => _rule?.States ?? [];

    /// <summary>Each transform's state of each tensor (null where it keeps none).</summary>
    public IReadOnlyList<IReadOnlyList<UpdateState?>> TransformStates => _transformStates;

    /// <summary>reduce-on-plateau's multiplier on the rule's learning rate.</summary>
    public double Scale
    {
        get => _rule?.Scale ?? 1;
        set
        {
            if (_rule is not null)
                _rule.Scale = value;
        }
    }

    /// <summary>One step after the gradient: the transforms, then the rule.</summary>
    public void Run(double globalNorm)
    {
        _rule?.PrepareStep();
        RunTransforms(globalNorm);
        _rule?.Run();
    }

    /// <summary>The transforms alone, in order, each state's step advanced after its transform.</summary>
    public void RunTransforms(double globalNorm)
    {
        _step.GlobalNorm = globalNorm;
        for (int i = 0; i < _transforms.Count; i++)
        {
            _step.Use(_transformStates[i]);
            _transforms[i].Apply(_step);
            foreach (var state in _transformStates[i])
                if (state is not null)
                    state.Step++;
        }
    }
}
