using System.Numerics;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Orleans;

/// <summary>
/// The parameter-server grain: a <see cref="ParameterServerCore{T}"/> (Orleans runs one call at a
/// time, so it needs no lock) whose state is written to grain storage every
/// <see cref="ParameterServerSettings.PersistEvery"/> updates and restored when the grain is
/// activated again, on any silo, after its silo was lost (and when it is deactivated, so a
/// graceful stop loses nothing).
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class ParameterServerGrain<T>(
    [PersistentState("parameter-server", NeuralBasicsTrainingOptions.StorageName)] IPersistentState<ParameterServerState<T>> state,
    NeuralBasicsTrainingOptions options) : Grain, IParameterServerGrain<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private ParameterServerSettings _settings = null!;
    private ParameterServerCore<T>? _core;
    private long _persisted;

    /// <inheritdoc/>
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _settings = options.ParameterServer(this.GetPrimaryKeyString());
        var stored = state.State;
        if (stored.Parameters is { } parameters)
        {
            _core = ParameterServerCore<T>.Restore(
                new ParameterServerSnapshot<T>(stored.Version, parameters, stored.Steps, stored.StateBuffers, stored.NextSequence, stored.Incarnations),
                _settings.Rule, _settings.Staleness);
            _persisted = stored.Version;
        }
        return Task.CompletedTask;
    }

    /// <summary>Writes the state when the grain is deactivated (its silo shutting down, or idle), so a graceful stop loses nothing.</summary>
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
            _core = new ParameterServerCore<T>(initial.Unpack<T>().Select(t => (ReadOnlyMemory<T>)t), _settings.Rule, _settings.Staleness);
            await Persist();
        }
        else
        {
            initial.RequireLengths(_core.Parameters.Select(p => p.Length), $"The parameter server \"{this.GetPrimaryKeyString()}\"");
        }
        return _core.Version;
    }

    /// <inheritdoc/>
    public Task<VersionedTensors> Fetch(MessageStamp stamp) => Fetch(stamp, MessagePrecision.Full);

    /// <inheritdoc/>
    public Task<VersionedTensors> Fetch(MessageStamp stamp, MessagePrecision precision)
    {
        var core = Core();
        T[][] values = [.. core.Parameters.Select(p => new T[p.Length])];
        long version = core.Fetch([.. values.Select(v => (Memory<T>)v)]);
        return Task.FromResult(new VersionedTensors(version, PackedTensors.Pack<T>([.. values.Select(v => (ReadOnlyMemory<T>)v)], precision)));
    }

    /// <inheritdoc/>
    public async Task<ExchangeReply> Push(MessageStamp stamp, long baseVersion, PackedTensors gradients)
    {
        var core = Core();
        // Read in place: the core copies only a push it has to queue.
        var reply = core.Push(stamp, baseVersion, gradients.View<T>());
        if (core.Version - _persisted >= _settings.PersistEvery)
            await Persist();
        return reply;
    }

    /// <inheritdoc/>
    public Task<ServerStatus> Status() =>
        Task.FromResult(new ServerStatus(_core?.Version ?? 0, _persisted, _core?.RejectedPushes ?? 0, RuntimeIdentity));

    private ParameterServerCore<T> Core() =>
        _core ?? throw new InvalidOperationException($"The parameter server \"{this.GetPrimaryKeyString()}\" has no parameters yet: call Initialize first.");

    private async Task Persist()
    {
        var snapshot = _core!.Snapshot();
        state.State = new ParameterServerState<T>
        {
            Version = snapshot.Version,
            Parameters = snapshot.Parameters,
            Steps = snapshot.Steps,
            StateBuffers = snapshot.StateBuffers,
            NextSequence = snapshot.NextSequence.ToDictionary(),
            Incarnations = snapshot.Incarnations?.ToDictionary() ?? [],
        };
        await state.WriteStateAsync();
        _persisted = snapshot.Version;
    }
}
