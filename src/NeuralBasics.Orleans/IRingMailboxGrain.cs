using System.Numerics;

namespace NeuralBasics.Orleans;

/// <summary>
/// One worker's mailbox in a ring all-reduce (<see cref="OrleansRingNetwork{T}"/>): the worker
/// before it delivers chunks, the worker takes them out. Keyed <c>{run}/ring-{worker}</c>.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
[Alias("NeuralBasics.IRingMailboxGrain`1")]
public interface IRingMailboxGrain<T> : IGrainWithStringKey
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Leaves a message under (round, phase, chunk); a repeated delivery of a key still held, or already taken, is ignored.</summary>
    [Alias("Deliver")]
    Task Deliver(long round, int phase, int chunk, RingDelivery message);

    /// <summary>Activates the mailbox (where the call's placement hint says, when it is not active yet) and names the silo it runs on.</summary>
    [Alias("Open")]
    Task<string> Open();

    /// <summary>
    /// Waits for the message under (round, phase, chunk) and takes it out; a cancelled wait (the
    /// worker gave up on the round at its deadline) ends here too, leaving nothing waiting in the grain.
    /// </summary>
    [Alias("Receive")]
    Task<RingDelivery> Receive(long round, int phase, int chunk, CancellationToken cancellationToken = default);
}
