namespace NeuralBasics.Evaluation;

/// <summary>
/// One class's precision, recall and F1 (or an average of them over the classes), and its support.
/// </summary>
/// <param name="Precision">Of the samples predicted as the class, the fraction that are: TP / (TP + FP); 0 when nothing was predicted as it.</param>
/// <param name="Recall">Of the samples of the class, the fraction predicted as it: TP / (TP + FN); 0 when it has no samples.</param>
/// <param name="F1">The harmonic mean 2PR / (P + R); 0 when both are 0.</param>
/// <param name="Support">The samples of the class (for an average: all samples).</param>
public sealed record ClassMetrics(double Precision, double Recall, double F1, int Support);
