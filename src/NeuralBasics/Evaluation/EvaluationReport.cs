using System.Globalization;
using System.Numerics;
using System.Text;

namespace NeuralBasics.Evaluation;

/// <summary>
/// How a classifier does on a data set: accuracy, the confusion matrix, precision, recall and F1 per
/// class with their macro (plain mean over the classes) and weighted (by support) averages, top-k
/// accuracy, and the log-loss of a model that gives probabilities. <see cref="ToString"/> prints it
/// as a table. Made by <see cref="Models.Classifier{T}.Evaluate(Data.DataSet{T})"/>, or from bare predictions by
/// <see cref="FromPredictions"/>.
/// </summary>
/// <remarks>
/// The conventions are scikit-learn's (<c>classification_report</c>, <c>log_loss</c>,
/// <c>top_k_accuracy_score</c>): a class never predicted has precision 0, a class without samples
/// recall 0, and the averages run over every class of the model. Top-k counts a sample right when
/// fewer than k classes score above its true class, a tie going to the lower class index as
/// <see cref="Models.Classifier{T}.Predict(Matrix{T})"/> does, so top-1 accuracy is the accuracy.
/// </remarks>
public sealed class EvaluationReport
{
    private readonly double[] _topK;

    private EvaluationReport(ConfusionMatrix confusion, IReadOnlyList<string> classNames, double[] topK, double? logLoss)
    {
        Confusion = confusion;
        ClassNames = classNames;
        _topK = topK;
        LogLoss = logLoss;
        PerClass = [.. Enumerable.Range(0, confusion.ClassCount).Select(c => ForClass(confusion, c))];
        MacroAverage = new ClassMetrics(PerClass.Average(m => m.Precision), PerClass.Average(m => m.Recall), PerClass.Average(m => m.F1), Count);
        WeightedAverage = new ClassMetrics(
            PerClass.Sum(m => m.Precision * m.Support) / Count, PerClass.Sum(m => m.Recall * m.Support) / Count,
            PerClass.Sum(m => m.F1 * m.Support) / Count, Count);
    }

    /// <summary>The samples evaluated.</summary>
    public int Count => Confusion.Total;

    /// <summary>
    /// Each raw column's permutation importance, most important first, when asked for
    /// (<see cref="Models.Classifier{T}.Evaluate(Tables.Table, int, int)"/>); null otherwise.
    /// </summary>
    public IReadOnlyList<FeatureImportance>? FeatureImportance { get; private init; }

    /// <summary>This report with <paramref name="importance"/> attached.</summary>
    internal EvaluationReport WithFeatureImportance(IReadOnlyList<FeatureImportance> importance) =>
        new(Confusion, ClassNames, _topK, LogLoss) { FeatureImportance = importance };

    /// <summary>The fraction classified right.</summary>
    public double Accuracy => (double)Confusion.Correct / Count;

    /// <summary>Counts of (actual, predicted) classes.</summary>
    public ConfusionMatrix Confusion { get; }

    /// <summary>The class names: the model's, or the class numbers.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Precision, recall, F1 and support of each class, by class index.</summary>
    public IReadOnlyList<ClassMetrics> PerClass { get; }

    /// <summary>The plain means over the classes (each class counts the same).</summary>
    public ClassMetrics MacroAverage { get; }

    /// <summary>The means over the classes weighted by their support.</summary>
    public ClassMetrics WeightedAverage { get; }

    /// <summary>
    /// The mean negative log-probability of the true class, −(1/N) Σ ln p(yᵢ | xᵢ), for a model
    /// trained with softmax cross-entropy (null otherwise, and for <see cref="FromPredictions"/>).
    /// Computed in double from the scores as logsumexp(s) − s_y, so no probability is clipped.
    /// </summary>
    public double? LogLoss { get; }

    /// <summary>The largest k for which <see cref="TopKAccuracy"/> is known (the class count, or 1 from bare predictions).</summary>
    public int MaxK => _topK.Length;

    /// <summary>The fraction of samples whose true class is among the <paramref name="k"/> highest scores.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is below 1 or above <see cref="MaxK"/>.</exception>
    public double TopKAccuracy(int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, MaxK);
        return _topK[k - 1];
    }

    /// <summary>A report from predicted classes alone (no top-k beyond 1, no log-loss).</summary>
    /// <exception cref="ArgumentException">The lengths differ, are 0, a class is out of range, or the names do not match the class count.</exception>
    public static EvaluationReport FromPredictions(ReadOnlySpan<int> predicted, ReadOnlySpan<int> labels, int classCount, IReadOnlyList<string>? classNames = null)
    {
        var confusion = new ConfusionMatrix(labels, predicted, classCount);
        return new EvaluationReport(confusion, Names(classNames, classCount), [(double)confusion.Correct / confusion.Total], null);
    }

    /// <summary>A report from N x C scores (log-loss when they are log-probabilities up to a constant per row).</summary>
    internal static EvaluationReport FromScores<T>(ReadOnlyMatrixSpan<T> scores, ReadOnlySpan<int> labels, bool logLoss, IReadOnlyList<string>? classNames)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = scores.Rows, classes = scores.Columns;
        var predicted = new int[n];
        var ranks = new int[classes];
        double loss = 0;
        for (int i = 0; i < n; i++)
        {
            var row = scores.Row(i);
            int y = labels[i];
            T own = row[y];
            int above = 0, best = 0;
            for (int j = 0; j < classes; j++)
            {
                if (row[j] > own || (row[j] == own && j < y))
                    above++;
                if (row[j] > row[best])
                    best = j;
            }
            predicted[i] = best;
            ranks[above]++;
            if (logLoss)
            {
                double max = double.CreateChecked(row[best]), sum = 0;
                for (int j = 0; j < classes; j++)
                    sum += Math.Exp(double.CreateChecked(row[j]) - max);
                loss += max + Math.Log(sum) - double.CreateChecked(own);
            }
        }
        var topK = new double[classes];
        for (int k = 0, within = 0; k < classes; k++)
        {
            within += ranks[k];
            topK[k] = (double)within / n;
        }
        return new EvaluationReport(new ConfusionMatrix(labels, predicted, classes), Names(classNames, classes), topK, logLoss ? loss / n : null);
    }

    /// <summary>
    /// The report as text: per class precision, recall, F1 and support, the accuracy and the two
    /// averages (as scikit-learn's classification_report lays them out), log-loss and top-k where
    /// known, then the confusion matrix.
    /// </summary>
    public override string ToString()
    {
        var invariant = CultureInfo.InvariantCulture;
        int nameWidth = Math.Max("weighted avg".Length, ClassNames.Max(n => n.Length));
        var text = new StringBuilder();
        text.AppendLine(string.Create(invariant, $"{"".PadRight(nameWidth)} {"precision",10} {"recall",10} {"f1-score",10} {"support",10}"));
        for (int c = 0; c < PerClass.Count; c++)
            Row(ClassNames[c], PerClass[c]);
        text.AppendLine();
        text.AppendLine(string.Create(invariant, $"{"accuracy".PadRight(nameWidth)} {"",10} {"",10} {Accuracy,10:F4} {Count,10}"));
        Row("macro avg", MacroAverage);
        Row("weighted avg", WeightedAverage);
        text.AppendLine();
        if (LogLoss is { } loss)
            text.AppendLine(string.Create(invariant, $"log-loss {loss:F4}"));
        if (MaxK > 1)
            text.AppendLine("top-k accuracy: " + string.Join(", ", Enumerable.Range(2, Math.Min(MaxK, 5) - 1).Select(k => string.Create(invariant, $"k = {k}: {TopKAccuracy(k):F4}"))));
        text.AppendLine();
        text.Append(Confusion.ToString(ClassNames));
        if (FeatureImportance is { Count: > 0 } importance)
        {
            text.AppendLine().AppendLine().AppendLine("permutation importance (accuracy drop when the column is shuffled, mean ± sd):");
            int width = importance.Max(f => f.Column.Length);
            foreach (var f in importance)
                text.AppendLine(string.Create(invariant, $"  {f.Column.PadRight(width)} {f.AccuracyDrop,8:F4} ± {f.StandardDeviation:F4}"));
        }
        return text.ToString();

        void Row(string name, ClassMetrics m) =>
            text.AppendLine(string.Create(invariant, $"{name.PadRight(nameWidth)} {m.Precision,10:F4} {m.Recall,10:F4} {m.F1,10:F4} {m.Support,10}"));
    }

    private static ClassMetrics ForClass(ConfusionMatrix confusion, int c)
    {
        int truePositives = confusion[c, c], predicted = confusion.PredictedCount(c), support = confusion.ActualCount(c);
        double precision = predicted > 0 ? (double)truePositives / predicted : 0;
        double recall = support > 0 ? (double)truePositives / support : 0;
        double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
        return new ClassMetrics(precision, recall, f1, support);
    }

    private static IReadOnlyList<string> Names(IReadOnlyList<string>? classNames, int classCount)
    {
        if (classNames is null)
            return [.. Enumerable.Range(0, classCount).Select(c => c.ToString(CultureInfo.InvariantCulture))];
        if (classNames.Count != classCount)
            throw new ArgumentException($"{classNames.Count} class names for {classCount} classes.", nameof(classNames));
        return classNames;
    }
}
