using System.Numerics;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Orleans;

/// <summary>
/// The center-variable grain of EASGD: a <see cref="CenterVariableCore{T}"/> whose center, version
/// and workers' last exchanges are written to grain storage every
/// <see cref="NeuralBasicsTrainingOptions.CenterPersistEvery"/> exchanges.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class CenterVariableGrain<T>(
    [PersistentState("center-variable", NeuralBasicsTrainingOptions.StorageName)] IPersistentState<CenterVariableState<T>> state,
    NeuralBasicsTrainingOptions options) : Grain, ICenterVariableGrain<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private CenterVariableCore<T>? _core;
    private long _persisted;

    /// <inheritdoc/>
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Center is { } center)
        {
            _core = new CenterVariableCore<T>(center.Select(c => (ReadOnlyMemory<T>)c), state.State.Version, state.State.LastSequence, state.State.Incarnations);
            _persisted = state.State.Version;
        }
        return Task.CompletedTask;
    }

    /// <summary>Writes the state when the grain is deactivated, so a graceful stop loses nothing.</summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_core is not null && _core.Version != _persisted)
            await Persist();
    }

    /// <inheritdoc/>
    public async Task<long> Initialize(PackedTensors initial)
    {
        if (_core is null)
        {
            _core = new CenterVariableCore<T>(initial.Unpack<T>().Select(t => (ReadOnlyMemory<T>)t));
            await Persist();
        }
        else
        {
            initial.RequireLengths(_core.Center.Select(c => c.Length), $"The center variable \"{this.GetPrimaryKeyString()}\"");
        }
        return _core.Version;
    }

    /// <inheritdoc/>
    public async Task<ExchangeAnswer> Exchange(MessageStamp stamp, T alpha, PackedTensors parameters)
    {
        var core = Core();
        T[][] values = parameters.Unpack<T>();
        var reply = core.Exchange(stamp, alpha, [.. values.Select(p => (Memory<T>)p)]);
        if (core.Version - _persisted >= options.CenterPersistEvery)
            await Persist();
        return new ExchangeAnswer(reply, reply.Status == ExchangeStatus.Outdated ? PackedTensors.Empty : PackedTensors.Pack<T>([.. values.Select(v => (ReadOnlyMemory<T>)v)]));
    }

    /// <inheritdoc/>
    public Task<VersionedTensors> Read()
    {
        var core = Core();
        return Task.FromResult(new VersionedTensors(core.Version, PackedTensors.Pack<T>([.. core.Center.Select(c => (ReadOnlyMemory<T>)c)])));
    }

    private CenterVariableCore<T> Core() =>
        _core ?? throw new InvalidOperationException($"The center variable \"{this.GetPrimaryKeyString()}\" has no values yet: call Initialize first.");

    private async Task Persist()
    {
        state.State = new CenterVariableState<T>
        {
            Version = _core!.Version,
            Center = [.. _core.Center.Select(c => c.ToArray())],
            LastSequence = _core.LastSequences.ToDictionary(),
            Incarnations = _core.Incarnations.ToDictionary(),
        };
        await state.WriteStateAsync();
        _persisted = _core.Version;
    }
}
