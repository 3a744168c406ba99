namespace NeuralBasics.Training.Distributed;

/// <summary>The shared state's answer to a push or an exchange.</summary>
/// <param name="Status">What was done with the message.</param>
/// <param name="Version">
/// The shared parameters' version after the message: the number of updates (pushes, exchanges)
/// applied to them so far.
/// </param>
/// <param name="Staleness">
/// For a push: how many versions the parameters it was computed on were behind the server when it
/// was applied (or rejected); otherwise 0.
/// </param>
public readonly record struct ExchangeReply(ExchangeStatus Status, long Version, long Staleness = 0)
{
    /// <summary>True when the message changed the shared state (now, or later for <see cref="ExchangeStatus.Queued"/>).</summary>
    public bool Accepted => Status is ExchangeStatus.Applied or ExchangeStatus.Scaled or ExchangeStatus.Queued;
}
