using System.Numerics;
using NeuralBasics.Optimizers;

namespace NeuralBasics.Training.Distributed;

/// <summary>The parameter server in this process's memory: parameters, one update-rule state per tensor, one lock.</summary>
public sealed class InProcessParameterServer<T> : IParameterServer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[][] _parameters;
    private readonly UpdateState[] _states;
    private readonly UpdateRule _rule;
    private readonly Lock _lock = new();

    /// <summary>Starts the server at <paramref name="initial"/> (copied), updating with <paramref name="rule"/>.</summary>
    public InProcessParameterServer(IEnumerable<ReadOnlyMemory<T>> initial, UpdateRule rule)
    {
        ArgumentNullException.ThrowIfNull(initial);
        ArgumentNullException.ThrowIfNull(rule);
        _parameters = [.. initial.Select(m => m.ToArray())];
        _rule = rule;
        _states = [.. _parameters.Select(p => rule.CreateState<T>(p.Length))];
    }

    /// <summary>The updates applied so far.</summary>
    public long Pushes { get; private set; }

    /// <inheritdoc/>
    public void Fetch(IReadOnlyList<Memory<T>> destination)
    {
        lock (_lock)
        {
            for (int k = 0; k < _parameters.Length; k++)
                _parameters[k].CopyTo(destination[k].Span);
        }
    }

    /// <inheritdoc/>
    public void Push(IReadOnlyList<ReadOnlyMemory<T>> gradients)
    {
        lock (_lock)
        {
            // Each tensor's step validates first and changes nothing on bad input, so a rejected
            // push leaves at most the tensors before it updated; gradients are checked finite
            // before they are sent, so that does not happen in a run.
            for (int k = 0; k < _parameters.Length; k++)
                _rule.Apply<T>(_parameters[k], gradients[k].Span, _states[k]);
            Pushes++;
        }
    }
}
