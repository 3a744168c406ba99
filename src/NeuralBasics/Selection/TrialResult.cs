namespace NeuralBasics.Selection;

/// <summary>How one trial did on the validation set.</summary>
/// <param name="Trial">The configuration.</param>
/// <param name="ValidationAccuracy">The validation accuracy after its last epoch.</param>
/// <param name="ValidationLoss">The validation loss after its last epoch.</param>
/// <param name="Epochs">Epochs trained.</param>
/// <param name="Pruned">Stopped early for doing worse than the median of earlier trials at the same epoch.</param>
/// <param name="Seconds">Wall-clock seconds of its training.</param>
public sealed record TrialResult(Trial Trial, double ValidationAccuracy, double ValidationLoss, int Epochs, bool Pruned, double Seconds);
