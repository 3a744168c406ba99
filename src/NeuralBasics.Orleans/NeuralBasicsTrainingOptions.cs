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

    internal ParameterServerSettings ParameterServer(string run) =>
        ParameterServers.TryGetValue(run, out var settings)
            ? settings
            : throw new InvalidOperationException($"No parameter server is configured for the run \"{run}\": add it with AddParameterServer on every silo.");
}
