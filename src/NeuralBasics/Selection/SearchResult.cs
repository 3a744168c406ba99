using System.Globalization;
using System.Numerics;
using System.Text;
using NeuralBasics.Data;
using NeuralBasics.Training;

namespace NeuralBasics.Selection;

/// <summary>A search's trials, best first (highest validation accuracy, then lowest validation loss).</summary>
public sealed class SearchResult
{
    internal SearchResult(IEnumerable<TrialResult> results) =>
        Results = [.. results.OrderByDescending(r => r.ValidationAccuracy).ThenBy(r => r.ValidationLoss).ThenBy(r => r.Trial.Number)];

    /// <summary>Every trial, best first.</summary>
    public IReadOnlyList<TrialResult> Results { get; }

    /// <summary>The best trial.</summary>
    public TrialResult Best => Results[0];

    /// <summary>
    /// Trains the best configuration again with <paramref name="build"/> on <paramref name="data"/>
    /// (typically the training and validation data together, or the full training set), scored on
    /// <paramref name="validation"/> when given.
    /// </summary>
    public TrainingResult<T> Refit<T>(Func<Trial, Trainer<T>> build, DataSet<T> data, DataSet<T>? validation = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(build);
        return build(Best.Trial).Train(data, validation);
    }

    /// <summary>The results as a table, best first.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.AppendLine("rank  trial  val acc  val loss  epochs  pruned  seconds  hyperparameters");
        for (int i = 0; i < Results.Count; i++)
        {
            var r = Results[i];
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{i + 1,4}  {r.Trial.Number,5}  {r.ValidationAccuracy,7:P2}  {r.ValidationLoss,8:F4}  {r.Epochs,6}  {(r.Pruned ? "yes" : ""),6}  {r.Seconds,7:F2}  {r.Trial}"));
        }
        return text.ToString();
    }
}
