namespace NeuralBasics.Training.Distributed;

/// <summary>What the shared state did with a message.</summary>
public enum ExchangeStatus
{
    /// <summary>Applied as sent.</summary>
    Applied,

    /// <summary>Applied with its gradients scaled down because they were stale (<see cref="StaleGradientHandling.Scale"/>).</summary>
    Scaled,

    /// <summary>
    /// Arrived before an earlier message of the same worker; held and applied in sequence order as
    /// soon as the gap is filled.
    /// </summary>
    Queued,

    /// <summary>A message with this stamp was already received: nothing changed (the reply repeats the first one's result where there is one).</summary>
    Duplicate,

    /// <summary>Older than a message of the same worker that was already applied: nothing changed.</summary>
    Outdated,

    /// <summary>Not applied: computed on parameters more versions old than the staleness bound allows (<see cref="StaleGradientHandling.Reject"/>).</summary>
    RejectedStale,

    /// <summary>
    /// Not applied: the worker id has been restarted since (a message with a larger
    /// <see cref="MessageStamp.Incarnation"/> arrived), so this sender is a leftover that must stop.
    /// </summary>
    Superseded,
}
