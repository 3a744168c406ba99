using NeuralBasics.Optimizers;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Orleans;

/// <summary>
/// What the NeuralBasics grains of a silo need to know that workers do not send: each parameter
/// server's update rule, staleness bound and persistence interval, by run name, and how often a
/// center variable is persisted. Registered with <see cref="SiloBuilderExtensions.AddNeuralBasicsTraining"/>.
/// </summary>
/// <remarks>
/// The grains keep their state through the Orleans grain storage named <see cref="StorageName"/>;
/// configure one on every silo (memory storage for a test, ADO.NET, Azure or another durable
/// provider across machines).
/// </remarks>
public sealed class NeuralBasicsTrainingOptions
{
    /// <summary>The name of the grain storage provider the grains persist through.</summary>
    public const string StorageName = "neuralbasics";

    private int _centerPersistEvery = 100;

    /// <summary>Parameter-server settings by run name (the grain's key).</summary>
    public Dictionary<string, ParameterServerSettings> ParameterServers { get; } = [];

    /// <summary>A center variable writes its state to storage after this many exchanges. Default 100.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 1.</exception>
    public int CenterPersistEvery { get => _centerPersistEvery; set { ArgumentOutOfRangeException.ThrowIfLessThan(value, 1); _centerPersistEvery = value; } }

    /// <summary>Adds a parameter server for the run <paramref name="run"/>.</summary>
    public NeuralBasicsTrainingOptions AddParameterServer(string run, UpdateRule rule, StalenessBound? staleness = null, int persistEvery = 100)
    {
        ArgumentException.ThrowIfNullOrEmpty(run);
        ParameterServers[run] = new ParameterServerSettings(rule, staleness, persistEvery);
        return this;
    }

    /// <summary>The settings of the grain <paramref name="key"/>: its run's, for a shard of a sharded run (<c>{run}/shard-{s}-of-{S}</c>).</summary>
    internal ParameterServerSettings ParameterServer(string key) =>
        ParameterServers.TryGetValue(key, out var settings) || ParameterServers.TryGetValue(RunOf(key), out settings)
            ? settings
            : throw new InvalidOperationException($"No parameter server is configured for the run \"{RunOf(key)}\": add it with AddParameterServer on every silo.");

    /// <summary>The grain key of shard <paramref name="shard"/> of <paramref name="shards"/> of the run <paramref name="run"/>.</summary>
    internal static string ShardKey(string run, int shard, int shards) => shards == 1 ? run : $"{run}{ShardMark}{shard}-of-{shards}";

    /// <summary>The run a grain key belongs to.</summary>
    internal static string RunOf(string key) => key.LastIndexOf(ShardMark, StringComparison.Ordinal) is int mark and > 0 ? key[..mark] : key;

    private const string ShardMark = "/shard-";
}
