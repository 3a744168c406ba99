namespace NeuralBasics.Training;

/// <summary>Progress within an epoch, reported after every mini-batch step.</summary>
/// <param name="Epoch">The epoch number, from 1.</param>
/// <param name="Batch">The batch number within the epoch, from 1.</param>
/// <param name="BatchCount">Batches per epoch.</param>
/// <param name="DataLoss">The batch's mean data loss (before the step).</param>
/// <param name="Accuracy">The fraction of the batch classified correctly (before the step).</param>
/// <param name="SamplesPerSecond">The batch size over the step's time.</param>
public sealed record BatchResult(int Epoch, int Batch, int BatchCount, double DataLoss, double Accuracy, double SamplesPerSecond);
