using System.Numerics;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Orleans;

/// <summary>
/// A Downpour parameter server as an Orleans grain, keyed by the run's name: its update rule,
/// staleness bound and persistence interval come from the silo's <see cref="NeuralBasicsTrainingOptions"/>,
/// its parameters from the first worker to call <see cref="Initialize"/>.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
[Alias("NeuralBasics.IParameterServerGrain`1")]
public interface IParameterServerGrain<T> : IGrainWithStringKey
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Sets the initial parameters unless the server already has some (from an earlier call or its storage); returns the version.</summary>
    /// <exception cref="InvalidOperationException">The server already holds tensors of other sizes: another model uses the run name.</exception>
    [Alias("Initialize")]
    Task<long> Initialize(PackedTensors initial);

    /// <summary>The current parameters and their version.</summary>
    [Alias("Fetch")]
    Task<VersionedTensors> Fetch(MessageStamp stamp);

    /// <summary>The current parameters, sent at <paramref name="precision"/>, and their version.</summary>
    [Alias("FetchAt")]
    Task<VersionedTensors> Fetch(MessageStamp stamp, MessagePrecision precision);

    /// <summary>One push (see <see cref="ParameterServerCore{T}.Push"/>).</summary>
    [Alias("Push")]
    Task<ExchangeReply> Push(MessageStamp stamp, long baseVersion, PackedTensors gradients);

    /// <summary>The version, the version last written to storage, and the pushes rejected as stale.</summary>
    [Alias("Status")]
    Task<ServerStatus> Status();
}
