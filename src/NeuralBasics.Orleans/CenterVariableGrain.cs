using System.Numerics;
using System.Numerics.Tensors;
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
        T[][]? sent = parameters.Precision == MessagePrecision.Full ? null : [.. values.Select(v => (T[])v.Clone())];
        var reply = core.Exchange(stamp, alpha, [.. values.Select(p => (Memory<T>)p)]);
        if (core.Version - _persisted >= options.CenterPersistEvery)
            await Persist();
        if (reply.Status == ExchangeStatus.Outdated)
            return new ExchangeAnswer(reply, PackedTensors.Empty);
        if (sent is null)
            return new ExchangeAnswer(reply, PackedTensors.Pack<T>([.. values.Select(v => (ReadOnlyMemory<T>)v)]));
        // A 16-bit exchange is answered with the moves x̂ − x̂′, at the same precision: the worker subtracts them from its own values.
        for (int k = 0; k < sent.Length; k++)
            TensorPrimitives.Subtract(sent[k], values[k], sent[k]);
        return new ExchangeAnswer(reply, PackedTensors.Pack<T>([.. sent.Select(v => (ReadOnlyMemory<T>)v)], parameters.Precision));
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
