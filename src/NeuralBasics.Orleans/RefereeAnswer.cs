namespace NeuralBasics.Orleans;

/// <summary>A <see cref="IRoundRefereeGrain"/>'s decision as it crosses the wire (<see cref="Training.Distributed.RoundDecision"/>).</summary>
/// <param name="Commit">True: every member that reported has the sum, and applies it; false: the round is tried again.</param>
/// <param name="Members">The members of the next attempt or round, in id order.</param>
[GenerateSerializer, Alias("NeuralBasics.RefereeAnswer"), Immutable]
public sealed record RefereeAnswer([property: Id(0)] bool Commit, [property: Id(1)] int[] Members);
