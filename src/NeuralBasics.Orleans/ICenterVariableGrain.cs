using System.Numerics;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Orleans;

/// <summary>An EASGD center variable as an Orleans grain, keyed by the run's name.</summary>
/// <typeparam name="T">The element type.</typeparam>
[Alias("NeuralBasics.ICenterVariableGrain`1")]
public interface ICenterVariableGrain<T> : IGrainWithStringKey
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Sets the initial center unless it already has one; returns the version.</summary>
    /// <exception cref="InvalidOperationException">The center already holds tensors of other sizes: another model uses the run name.</exception>
    [Alias("Initialize")]
    Task<long> Initialize(PackedTensors initial);

    /// <summary>
    /// One elastic exchange (see <see cref="CenterVariableCore{T}.Exchange"/>): answered with the moved
    /// parameters, or for 16-bit <paramref name="parameters"/> with the moves (sent values less moved
    /// ones) at the same precision.
    /// </summary>
    [Alias("Exchange")]
    Task<ExchangeAnswer> Exchange(MessageStamp stamp, T alpha, PackedTensors parameters);

    /// <summary>The center and its version.</summary>
    [Alias("Read")]
    Task<VersionedTensors> Read();
}
