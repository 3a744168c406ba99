using System.Numerics;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Orleans;

/// <summary>
/// The mailboxes of a <see cref="RingAllReduce{T}"/> as grains, one per worker
/// (<c>{run}/ring-{worker}</c>), so workers in any process exchange chunks directly with their
/// neighbours and no grain carries every worker's gradients.
/// </summary>
/// <example>
/// <code>
/// var allReduce = new RingAllReduce&lt;float&gt;(new OrleansRingNetwork&lt;float&gt;(client, "fashion-sync"), workers);
/// await new SynchronousWorker&lt;float&gt;(setup, allReduce, workerId, options).RunAsync(data, shard);
/// </code>
/// </example>
/// <typeparam name="T">The element type.</typeparam>
public sealed class OrleansRingNetwork<T> : IRingNetwork<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IGrainFactory _grains;
    private readonly RetryPolicy _retry;

    /// <summary>The ring of the run <paramref name="run"/>, reached through <paramref name="grains"/>.</summary>
    public OrleansRingNetwork(IGrainFactory grains, string run, RetryPolicy? retry = null)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentException.ThrowIfNullOrEmpty(run);
        _grains = grains;
        _retry = retry ?? RetryPolicy.Default;
        Run = run;
    }

    /// <summary>The run's name.</summary>
    public string Run { get; }

    /// <summary>Worker <paramref name="worker"/>'s mailbox grain.</summary>
    public IRingMailboxGrain<T> Mailbox(int worker) => _grains.GetGrain<IRingMailboxGrain<T>>($"{Run}/ring-{worker}");

    /// <summary>
    /// Activates the mailboxes of workers 0 … <paramref name="workerCount"/> − 1 where they belong:
    /// worker w's on <c>silos[w mod silos.Count]</c> — with the list from
    /// <see cref="OrleansPlacement.ActiveSilosAsync"/> and worker w beside the w-th silo, on its
    /// own machine, so every part it receives crosses one link and taking it out crosses none. Every
    /// worker calls it with the same list before its first round, so whichever call comes first
    /// places a mailbox the same way (a mailbox placed only by its own worker could be activated
    /// elsewhere by an early delivery). A mailbox already active stays where it is. Returns the silo
    /// each mailbox runs on.
    /// </summary>
    public async Task<string[]> PlaceMailboxesAsync(int workerCount, IReadOnlyList<SiloAddress> silos, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workerCount, 1);
        ArgumentNullException.ThrowIfNull(silos);
        if (silos.Count == 0)
            throw new ArgumentException("Name at least one silo.", nameof(silos));
        return await Task.WhenAll(Enumerable.Range(0, workerCount).Select(w =>
            _retry.Run(() => OrleansPlacement.OnSilo(silos[w % silos.Count], () => Mailbox(w).Open()), cancellationToken))).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask SendAsync(int worker, RingKey key, int rows, ReadOnlyMemory<T> values, CancellationToken cancellationToken = default)
    {
        var message = new RingDelivery(rows, PackedTensors.Pack<T>([values]));
        await _retry.Run(async () => { await Mailbox(worker).Deliver(key.Round, key.Phase, key.Chunk, message); return 0; }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask<(int Rows, T[] Values)> ReceiveAsync(int worker, RingKey key, CancellationToken cancellationToken = default)
    {
        var message = await Mailbox(worker).Receive(key.Round, key.Phase, key.Chunk, cancellationToken).WaitAsync(cancellationToken).ConfigureAwait(false);
        var tensors = message.Values.Unpack<T>();
        return (message.Rows, tensors.Length == 1 ? tensors[0] : throw new InvalidDataException("A ring message should hold one tensor."));
    }
}
