namespace NeuralBasics.Optimizers;

/// <summary>The state of <see cref="Sgd"/>: nothing but the step count.</summary>
public sealed record SgdState(int Length) : UpdateState(Length);
