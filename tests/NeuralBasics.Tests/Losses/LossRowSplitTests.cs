using NeuralBasics.Kernels;
using NeuralBasics.Losses;

namespace NeuralBasics.Tests.Losses;

/// <summary>
/// Large batches (64 Ki scores or more) have their rows split across the cores: the loss, its
/// gradient and the row-wise softmax must be the same bits as on one core, match an independent
/// double-precision computation, and allocate nothing once warm.
/// </summary>
[Collection(AllocationCollection.Name)]
public class LossRowSplitTests
{
    // 1,013 x 97 = 98,261 scores: above the split, odd sizes so no part is a whole number of vectors.
    private const int Rows = 1013, Classes = 97;

    public static TheoryData<string> Losses() => ["softmax", "softmax-weighted", "hinge", "squared-hinge-weighted"];

    private static ILoss Make(string name)
    {
        var weights = Enumerable.Range(0, Classes).Select(c => 0.5 + (c % 7) / 4.0).ToArray();
        return name switch
        {
            "softmax" => SoftmaxCrossEntropyLoss.Instance,
            "softmax-weighted" => new SoftmaxCrossEntropyLoss(weights),
            "hinge" => new MulticlassHingeLoss(),
            _ => new SquaredHingeLoss(0.5, weights),
        };
    }

    private static (Matrix<float> Scores, int[] Labels) Batch()
    {
        var scores = TestData.Uniform<float>(Rows, Classes, 11, scale: 4);
        var labels = Enumerable.Range(0, Rows).Select(i => (i * 31) % Classes).ToArray();
        return (scores, labels);
    }

    private static T WithThreads<T>(int threads, Func<T> run)
    {
        int saved = Gemm.DefaultMaxDegreeOfParallelism;
        try
        {
            Gemm.DefaultMaxDegreeOfParallelism = threads;
            return run();
        }
        finally
        {
            Gemm.DefaultMaxDegreeOfParallelism = saved;
        }
    }

    [Theory]
    [MemberData(nameof(Losses))]
    public void SplitRows_GiveTheBitsOfOneCore(string name)
    {
        Assert.True(Rows * Classes >= RowRanges.ParallelElements);
        var loss = Make(name);
        var (scores, labels) = Batch();
        var oneGradient = new Matrix<float>(Rows, Classes);
        var allGradient = new Matrix<float>(Rows, Classes);
        float one = WithThreads(1, () => loss.Compute<float>(scores, labels, oneGradient));
        float all = WithThreads(0, () => loss.Compute<float>(scores, labels, allGradient));
        float oneNoGradient = WithThreads(1, () => loss.Compute<float>(scores, labels, default));
        float allNoGradient = WithThreads(0, () => loss.Compute<float>(scores, labels, default));

        Assert.Equal(BitConverter.SingleToInt32Bits(one), BitConverter.SingleToInt32Bits(all));
        Assert.Equal(BitConverter.SingleToInt32Bits(oneNoGradient), BitConverter.SingleToInt32Bits(allNoGradient));
        Assert.True(oneGradient.Span.SequenceEqual(allGradient.Span));
        Assert.Equal(Reference(name, scores, labels), one, 1e-4);
    }

    /// <summary>The mean weighted loss in double, written out from the definitions.</summary>
    private static double Reference(string name, Matrix<float> scores, int[] labels)
    {
        var weights = Enumerable.Range(0, Classes).Select(c => name.EndsWith("weighted") ? 0.5 + (c % 7) / 4.0 : 1.0).ToArray();
        double total = 0;
        for (int i = 0; i < Rows; i++)
        {
            int y = labels[i];
            double row = 0;
            if (name.StartsWith("softmax"))
            {
                double max = Enumerable.Range(0, Classes).Max(j => (double)scores[i, j]);
                double sum = Enumerable.Range(0, Classes).Sum(j => Math.Exp(scores[i, j] - max));
                row = Math.Log(sum) - (scores[i, y] - max);
            }
            else
            {
                double delta = name == "hinge" ? 1 : 0.5;
                for (int j = 0; j < Classes; j++)
                {
                    double margin = Math.Max(0, scores[i, j] - scores[i, y] + delta);
                    if (j != y)
                        row += name == "hinge" ? margin : margin * margin;
                }
            }
            total += weights[y] * row;
        }
        return total / Rows;
    }

    [Fact]
    public void SoftmaxRows_SplitRows_GiveTheBitsOfOneCore()
    {
        var (scores, _) = Batch();
        var one = new Matrix<float>(Rows, Classes);
        var all = new Matrix<float>(Rows, Classes);
        WithThreads(1, () => { RowOps.SoftmaxRows<float>(scores, one); return 0; });
        WithThreads(0, () => { RowOps.SoftmaxRows<float>(scores, all); return 0; });
        Assert.True(one.Span.SequenceEqual(all.Span));
        for (int i = 0; i < Rows; i += 101)
        {
            double max = Enumerable.Range(0, Classes).Max(j => (double)scores[i, j]);
            double sum = Enumerable.Range(0, Classes).Sum(j => Math.Exp(scores[i, j] - max));
            for (int j = 0; j < Classes; j++)
                Assert.Equal(Math.Exp(scores[i, j] - max) / sum, all[i, j], 1e-6);
        }
    }

    [Fact]
    public void SplitLoss_WarmCall_AllocatesNothing()
    {
        var (scores, labels) = Batch();
        var gradient = new Matrix<float>(Rows, Classes);
        var probabilities = new Matrix<float>(Rows, Classes);
        var hinge = new MulticlassHingeLoss();
        void All()
        {
            SoftmaxCrossEntropyLoss.Instance.Compute<float>(scores, labels, gradient);
            hinge.Compute<float>(scores, labels, gradient);
            RowOps.SoftmaxRows<float>(scores, probabilities);
        }
        int saved = Gemm.DefaultMaxDegreeOfParallelism;
        try
        {
            Gemm.DefaultMaxDegreeOfParallelism = 0;
            All();
            All();
            long before = GC.GetAllocatedBytesForCurrentThread();
            All();
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        finally
        {
            Gemm.DefaultMaxDegreeOfParallelism = saved;
        }
    }
}
