namespace NeuralBasics.Training.Distributed;

/// <summary>A referee's decision on one attempt at a round of a peer all-reduce (<see cref="IRoundReferee"/>).</summary>
/// <param name="Commit">True: every member that reported has the round's sum, and applies it. False: the round is tried again.</param>
/// <param name="Members">The workers of the next attempt (when not committed) or of the next round, in id order.</param>
public sealed record RoundDecision(bool Commit, IReadOnlyList<int> Members);
