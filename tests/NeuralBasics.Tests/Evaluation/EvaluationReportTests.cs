using NeuralBasics.Data;
using NeuralBasics.Evaluation;
using NeuralBasics.Losses;
using NeuralBasics.Models;
using NeuralBasics.Scoring;

namespace NeuralBasics.Tests.Evaluation;

/// <summary>The evaluation report against hand-worked counts, ratios, log-losses and ranks.</summary>
public class EvaluationReportTests
{
    // Four classes; class 3 (one sample) is never predicted.
    private static readonly int[] Labels = [0, 0, 0, 1, 1, 2, 2, 2, 2, 1, 3];
    private static readonly int[] Predicted = [0, 1, 0, 1, 2, 2, 2, 0, 2, 1, 0];

    [Fact]
    public void TheConfusionMatrixCountsEachActualPredictedPair()
    {
        var confusion = new ConfusionMatrix(Labels, Predicted, 4);
        int[,] expected = { { 2, 1, 0, 0 }, { 0, 2, 1, 0 }, { 1, 0, 3, 0 }, { 1, 0, 0, 0 } };
        for (int a = 0; a < 4; a++)
            for (int p = 0; p < 4; p++)
                Assert.Equal(expected[a, p], confusion[a, p]);
        Assert.Equal((11, 7), (confusion.Total, confusion.Correct));
        Assert.Equal([3, 3, 4, 1], Enumerable.Range(0, 4).Select(confusion.ActualCount));
        Assert.Equal([4, 3, 4, 0], Enumerable.Range(0, 4).Select(confusion.PredictedCount));
        Assert.Throws<ArgumentException>(() => new ConfusionMatrix([0, 4], [0, 0], 4));
        Assert.Throws<ArgumentException>(() => new ConfusionMatrix([0, 1], [0], 4));
        Assert.Throws<ArgumentException>(() => new ConfusionMatrix([], [], 4));
    }

    [Fact]
    public void PrecisionRecallAndF1_PerClassAndAveraged_AsWorkedByHand()
    {
        var report = EvaluationReport.FromPredictions(Predicted, Labels, 4, ["a", "b", "c", "d"]);
        Assert.Equal(7.0 / 11, report.Accuracy, 12);
        // Class 0: 2 right of 4 predicted, of 3 actual. Class 3: never predicted, so P = R = F1 = 0.
        Expect(report.PerClass[0], 0.5, 2.0 / 3, 4.0 / 7, 3);
        Expect(report.PerClass[1], 2.0 / 3, 2.0 / 3, 2.0 / 3, 3);
        Expect(report.PerClass[2], 0.75, 0.75, 0.75, 4);
        Expect(report.PerClass[3], 0, 0, 0, 1);
        Expect(report.MacroAverage, 23.0 / 48, 25.0 / 48, 167.0 / 336, 11);
        Expect(report.WeightedAverage, 6.5 / 11, 7.0 / 11, 47.0 / 77, 11);
        Assert.Null(report.LogLoss);
        Assert.Equal(1, report.MaxK);
        Assert.Throws<ArgumentOutOfRangeException>(() => report.TopKAccuracy(2));

        string text = report.ToString();
        Assert.Contains("macro avg", text);
        Assert.Contains("   0.4792", text);   // macro precision 23/48
        Assert.Contains("actual \\ predicted", text);
        Assert.Throws<ArgumentException>(() => EvaluationReport.FromPredictions(Predicted, Labels, 4, ["a"]));
    }

    [Fact]
    public void LogLossAndTopK_FromTheScores_AsWorkedByHand()
    {
        // W = I, b = 0: the scores are the features. Ranks of the true class: 0; 1; 1 (a tie with a
        // lower class goes to that class); 2 (tied with both lower classes).
        var score = new LinearScore<double>(3, 3);
        score.Parameters[0].Value.Span.Clear();
        for (int c = 0; c < 3; c++)
            score.Parameters[0].Value[c, c] = 1;
        score.Parameters[1].Value.Span.Clear();
        double[][] rows = [[2, 1, 0], [0, 1, 3], [1, 1, 0], [0, 0, 0]];
        int[] labels = [0, 1, 1, 2];
        var data = new DataSet<double>(Matrix(rows), labels, 3);

        var report = new Classifier<double>(score, SoftmaxCrossEntropyLoss.Instance).Evaluate(data);
        Assert.Equal([0.25, 0.75, 1.0], Enumerable.Range(1, 3).Select(report.TopKAccuracy));
        Assert.Equal(report.Accuracy, report.TopKAccuracy(1));
        double expected = (Math.Log(1 + Math.Exp(-1) + Math.Exp(-2))
                           + (3 + Math.Log(Math.Exp(-3) + Math.Exp(-2) + 1) - 1)
                           + (Math.Log(2 * Math.E + 1) - 1)
                           + Math.Log(3)) / 4;
        Assert.Equal(expected, report.LogLoss!.Value, 12);

        var hinge = new Classifier<double>(score, new MulticlassHingeLoss()).Evaluate(data);
        Assert.Null(hinge.LogLoss);
        Assert.Equal(report.Accuracy, hinge.Accuracy);
        Assert.Throws<ArgumentException>(() => new Classifier<double>(score, SoftmaxCrossEntropyLoss.Instance).Evaluate(new DataSet<double>(Matrix(rows), labels, 4)));
    }

    private static Matrix<double> Matrix(double[][] rows)
    {
        var m = new Matrix<double>(rows.Length, rows[0].Length);
        for (int i = 0; i < rows.Length; i++)
            rows[i].CopyTo(m.Row(i));
        return m;
    }

    private static void Expect(ClassMetrics actual, double precision, double recall, double f1, int support)
    {
        Assert.Equal(precision, actual.Precision, 12);
        Assert.Equal(recall, actual.Recall, 12);
        Assert.Equal(f1, actual.F1, 12);
        Assert.Equal(support, actual.Support);
    }
}
