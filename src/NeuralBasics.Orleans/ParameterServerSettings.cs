using NeuralBasics.Optimizers;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Orleans;

/// <summary>How one run's parameter server updates and persists.</summary>
public sealed record ParameterServerSettings
{
    /// <summary>Settings for a server that applies <paramref name="rule"/>.</summary>
    /// <param name="rule">The update rule applied to each push.</param>
    /// <param name="staleness">The staleness bound; null accepts any.</param>
    /// <param name="persistEvery">
    /// The state (parameters, rule state, version, sequence numbers) is written to grain storage
    /// after this many updates, so losing the silo costs at most this many. Default 100.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="persistEvery"/> is below 1.</exception>
    public ParameterServerSettings(UpdateRule rule, StalenessBound? staleness = null, int persistEvery = 100)
    {
        ArgumentNullException.ThrowIfNull(rule);
        Rule = rule;
        Staleness = staleness;
        ArgumentOutOfRangeException.ThrowIfLessThan(persistEvery, 1);
        PersistEvery = persistEvery;
    }

    /// <summary>The update rule.</summary>
    public UpdateRule Rule { get; }

    /// <summary>The staleness bound, or null.</summary>
    public StalenessBound? Staleness { get; }

    /// <summary>Updates between writes to grain storage.</summary>
    public int PersistEvery { get; }
}
