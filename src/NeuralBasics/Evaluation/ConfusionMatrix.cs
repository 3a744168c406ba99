using System.Globalization;
using System.Text;

namespace NeuralBasics.Evaluation;

/// <summary>
/// Counts of (actual class, predicted class) pairs: row <c>a</c>, column <c>p</c> holds how many
/// samples of class <c>a</c> were predicted as <c>p</c>. The diagonal is what was right.
/// </summary>
public sealed class ConfusionMatrix
{
    private readonly int[] _counts;

    /// <summary>Counts the pairs of <paramref name="actual"/> and <paramref name="predicted"/> classes, each in 0 .. <paramref name="classCount"/> − 1.</summary>
    /// <exception cref="ArgumentException">The lengths differ, are 0, or a class is out of range.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classCount"/> is below 1.</exception>
    public ConfusionMatrix(ReadOnlySpan<int> actual, ReadOnlySpan<int> predicted, int classCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 1);
        if (actual.Length != predicted.Length)
            throw new ArgumentException($"There are {predicted.Length} predictions but {actual.Length} labels.", nameof(predicted));
        if (actual.IsEmpty)
            throw new ArgumentException("A confusion matrix needs at least one sample.", nameof(actual));
        ClassCount = classCount;
        _counts = new int[classCount * classCount];
        for (int i = 0; i < actual.Length; i++)
        {
            if ((uint)actual[i] >= (uint)classCount)
                throw new ArgumentException($"Label {actual[i]} of sample {i} is not a class 0..{classCount - 1}.", nameof(actual));
            if ((uint)predicted[i] >= (uint)classCount)
                throw new ArgumentException($"Prediction {predicted[i]} of sample {i} is not a class 0..{classCount - 1}.", nameof(predicted));
            _counts[actual[i] * classCount + predicted[i]]++;
        }
        Total = actual.Length;
    }

    /// <summary>The number of classes (rows and columns).</summary>
    public int ClassCount { get; }

    /// <summary>The number of samples counted.</summary>
    public int Total { get; }

    /// <summary>How many samples of class <paramref name="actual"/> were predicted as <paramref name="predicted"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A class is out of range.</exception>
    public int this[int actual, int predicted]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(actual);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(actual, ClassCount);
            ArgumentOutOfRangeException.ThrowIfNegative(predicted);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(predicted, ClassCount);
            return _counts[actual * ClassCount + predicted];
        }
    }

    /// <summary>Samples whose actual class is <paramref name="actual"/> (the row's sum: the class's support).</summary>
    public int ActualCount(int actual) => Enumerable.Range(0, ClassCount).Sum(p => this[actual, p]);

    /// <summary>Samples predicted as <paramref name="predicted"/> (the column's sum).</summary>
    public int PredictedCount(int predicted) => Enumerable.Range(0, ClassCount).Sum(a => this[a, predicted]);

    /// <summary>Samples predicted right (the diagonal's sum).</summary>
    public int Correct => Enumerable.Range(0, ClassCount).Sum(c => this[c, c]);

    /// <summary>
    /// The matrix as a text table, rows actual and columns predicted. Rows are labelled with the
    /// class number and name; columns with the number alone, so ten classes fit in 80 characters.
    /// </summary>
    /// <exception cref="ArgumentException">The names do not match the class count.</exception>
    public string ToString(IReadOnlyList<string>? classNames)
    {
        if (classNames is not null && classNames.Count != ClassCount)
            throw new ArgumentException($"{classNames.Count} class names for {ClassCount} classes.", nameof(classNames));
        var invariant = CultureInfo.InvariantCulture;
        var labels = Enumerable.Range(0, ClassCount)
            .Select(c => classNames is null ? c.ToString(invariant) : string.Create(invariant, $"{c} {classNames[c]}")).ToArray();
        const string corner = "actual \\ predicted";
        int rowWidth = Math.Max(corner.Length, labels.Max(l => l.Length));
        int width = Math.Max(_counts.Max(), ClassCount - 1).ToString(invariant).Length + 2;
        var text = new StringBuilder();
        text.Append(corner.PadRight(rowWidth));
        for (int p = 0; p < ClassCount; p++)
            text.Append(p.ToString(invariant).PadLeft(width));
        text.AppendLine();
        for (int a = 0; a < ClassCount; a++)
        {
            text.Append(labels[a].PadRight(rowWidth));
            for (int p = 0; p < ClassCount; p++)
                text.Append(this[a, p].ToString(invariant).PadLeft(width));
            text.AppendLine();
        }
        return text.ToString();
    }

    /// <inheritdoc/>
    public override string ToString() => ToString(null);
}
