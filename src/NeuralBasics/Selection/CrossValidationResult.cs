namespace NeuralBasics.Selection;

/// <summary>The validation figures of each fold, and their mean and spread.</summary>
/// <param name="Accuracies">Each fold's validation accuracy after the last epoch.</param>
/// <param name="Losses">Each fold's validation loss after the last epoch.</param>
public sealed record CrossValidationResult(IReadOnlyList<double> Accuracies, IReadOnlyList<double> Losses)
{
    /// <summary>The mean accuracy over the folds.</summary>
    public double MeanAccuracy => Accuracies.Average();

    /// <summary>The sample standard deviation of the folds' accuracies.</summary>
    public double AccuracyStandardDeviation =>
        Accuracies.Count < 2 ? 0 : Math.Sqrt(Accuracies.Sum(a => (a - MeanAccuracy) * (a - MeanAccuracy)) / (Accuracies.Count - 1));

    /// <inheritdoc/>
    public override string ToString() => $"accuracy {MeanAccuracy:P2} ± {AccuracyStandardDeviation:P2} over {Accuracies.Count} folds";
}
