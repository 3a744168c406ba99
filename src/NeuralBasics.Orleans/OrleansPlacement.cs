using Orleans.Runtime.Placement;

namespace NeuralBasics.Orleans;

/// <summary>
/// Where the training grains run. Orleans activates a grain on a silo of its choosing when it is
/// first called; the shards of a parameter server (<see cref="OrleansParameterServer{T}.CreateShardedAsync"/>)
/// and the mailboxes of a ring (<see cref="OrleansRingNetwork{T}.PlaceMailboxesAsync"/>) are instead
/// first called with a placement hint, so each lands on the silo meant for it: shards one per silo,
/// a worker's mailbox on the silo of its own machine. A grain that is already active stays where it
/// is; one reactivated after its silo died goes where Orleans puts it.
/// </summary>
public static class OrleansPlacement
{
    /// <summary>
    /// The cluster's active silos in a fixed order — by address, port and start time — so every
    /// worker that asks the same cluster gets the same list and the same placement from it.
    /// </summary>
    public static async Task<IReadOnlyList<SiloAddress>> ActiveSilosAsync(IGrainFactory grains, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grains);
        var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(cancellationToken).ConfigureAwait(false);
        return [.. hosts.Keys.OrderBy(s => s, SiloOrder.Instance)];
    }

    /// <summary>Makes <paramref name="call"/> with a placement hint for <paramref name="silo"/> (none when null).</summary>
    internal static async Task<TResult> OnSilo<TResult>(SiloAddress? silo, Func<Task<TResult>> call)
    {
        if (silo is null)
            return await call().ConfigureAwait(false);
        // The request context flows into the calls this async method makes, and not back to its caller.
        RequestContext.Set(IPlacementDirector.PlacementHintKey, silo);
        try
        {
            return await call().ConfigureAwait(false);
        }
        finally
        {
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        }
    }

    private sealed class SiloOrder : IComparer<SiloAddress>
    {
        public static readonly SiloOrder Instance = new();

        public int Compare(SiloAddress? x, SiloAddress? y)
        {
            if (ReferenceEquals(x, y))
                return 0;
            if (x is null || y is null)
                return x is null ? -1 : 1;
            int order = x.Endpoint.Address.GetAddressBytes().AsSpan().SequenceCompareTo(y.Endpoint.Address.GetAddressBytes());
            if (order == 0)
                order = x.Endpoint.Port.CompareTo(y.Endpoint.Port);
            return order != 0 ? order : x.Generation.CompareTo(y.Generation);
        }
    }
}
