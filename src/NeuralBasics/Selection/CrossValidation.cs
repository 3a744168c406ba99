using System.Numerics;
using NeuralBasics.Data;
using NeuralBasics.Training;

namespace NeuralBasics.Selection;

/// <summary>Stratified k-fold cross-validation of one configuration.</summary>
public static class CrossValidation
{
    /// <summary>
    /// Trains a fresh trainer from <paramref name="build"/> (given the fold's index) on each of the
    /// <paramref name="k"/> stratified folds' training parts (<see cref="DataSplit.StratifiedFolds{T}"/>)
    /// and scores it on the fold's validation part.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is below 2 or above the sample count.</exception>
    public static CrossValidationResult Run<T>(Func<int, Trainer<T>> build, DataSet<T> data, int k = 5, int seed = 0, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(build);
        var accuracies = new List<double>();
        var losses = new List<double>();
        int fold = 0;
        foreach (var (train, validation) in DataSplit.StratifiedFolds(data, k, seed))
        {
            var last = build(fold++).Train(train, validation, cancellationToken: cancellationToken).History.Last!;
            accuracies.Add(last.ValidationAccuracy!.Value);
            losses.Add(last.ValidationLoss!.Value);
        }
        return new CrossValidationResult(accuracies, losses);
    }
}
