namespace NeuralBasics.Training.Distributed;

/// <summary>
/// A bound on how stale a Downpour push may be: a push carries the version of the parameters its
/// gradients were computed on, and when the server has applied more than <see cref="MaxVersions"/>
/// updates since, the push is handled as <see cref="Handling"/> says.
/// </summary>
public sealed record StalenessBound
{
    private readonly int _maxVersions;

    /// <summary>Bounds staleness at <paramref name="maxVersions"/> versions.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxVersions"/> is negative, or 0 with <see cref="StaleGradientHandling.Scale"/>.</exception>
    public StalenessBound(int maxVersions, StaleGradientHandling handling = StaleGradientHandling.Reject)
    {
        if (maxVersions < 0 || (maxVersions == 0 && handling == StaleGradientHandling.Scale))
            throw new ArgumentOutOfRangeException(nameof(maxVersions), maxVersions,
                "The staleness bound must be 0 or more, and at least 1 for scaling (k / s would be 0).");
        if (!Enum.IsDefined(handling))
            throw new ArgumentOutOfRangeException(nameof(handling), handling, "Unknown handling.");
        _maxVersions = maxVersions;
        Handling = handling;
    }

    /// <summary>k: the most updates that may have been applied since the push's parameters were fetched.</summary>
    public int MaxVersions => _maxVersions;

    /// <summary>What happens to a push beyond the bound.</summary>
    public StaleGradientHandling Handling { get; }

    /// <summary>The factor a push of <paramref name="staleness"/> versions is applied with: 1 within the bound, k/s or 0 (rejected) beyond it.</summary>
    public double Factor(long staleness) =>
        staleness <= _maxVersions ? 1 : Handling == StaleGradientHandling.Scale ? (double)_maxVersions / staleness : 0;
}
