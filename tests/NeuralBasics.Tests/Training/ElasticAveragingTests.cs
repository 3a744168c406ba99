using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Scoring;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Tests.Training;

public class ElasticAveragingTests
{
    private static double[] Values(IScoreFunction<double> score) => [.. score.Parameters.SelectMany(p => p.Value.Span.ToArray())];

    [Fact]
    public void ZeroElasticForce_LeavesWorkersIndependent_AndTheCenterWhereItStarted()
    {
        var data = SyntheticData.Blobs<double>(30, 3, 2, seed: 1);
        var score = new LinearScore<double>(2, 3, seed: 2);
        var result = new ElasticAveragingTrainer<double>(score, SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.05),
            new ElasticAveragingOptions { Workers = 2, Alpha = 0, Tau = 1, Epochs = 3, BatchSize = 8, Seed = 4 }).Train(data);
        Assert.Equal(Values(score), Values(result.Model.CopyScoreFunction()));
        Assert.NotEqual(Values(result.Workers[0]), Values(result.Workers[1]));
    }

    [Fact]
    public void OneWorkerWithoutElasticForce_IsPlainSgdOverItsBatches()
    {
        var data = SyntheticData.Blobs<double>(20, 3, 2, seed: 1);
        var score = new LinearScore<double>(2, 3, seed: 2);
        var options = new ElasticAveragingOptions { Workers = 1, Alpha = 0, Tau = 1, Epochs = 2, BatchSize = 8, Seed = 4 };
        var result = new ElasticAveragingTrainer<double>(score, SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.05), options).Train(data);

        var byHand = SingleWorkerReference.SgdParameters(data, score, 0.05, epochs: 2, batchSize: 8, seed: 4);
        Assert.Equal(byHand, Values(result.Workers[0]));
    }

    [Fact]
    public void OneWorkerExchangingEveryStepAtHalfForce_IsSgdAtHalfTheRate_ForWorkerAndCenter()
    {
        // τ = 1, α = ½, one worker: after each local step x' = x − lr·g, the exchange gives
        // x ← x' − ½(x' − x̃) and x̃ ← x̃ + ½(x' − x̃), both x − ½·lr·g when x = x̃ before the step:
        // worker and center move together, as SGD with half the rate.
        var data = SyntheticData.Blobs<double>(20, 3, 2, seed: 1);
        var score = new LinearScore<double>(2, 3, seed: 2);
        var result = new ElasticAveragingTrainer<double>(score, SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.1),
            new ElasticAveragingOptions { Workers = 1, Alpha = 0.5, Tau = 1, Epochs = 2, BatchSize = 8, Seed = 4 }).Train(data);

        var expected = SingleWorkerReference.SgdParameters(data, score, 0.05, epochs: 2, batchSize: 8, seed: 4);
        var center = Values(result.Model.CopyScoreFunction());
        var worker = Values(result.Workers[0]);
        for (int k = 0; k < expected.Length; k++)
        {
            Assert.Equal(expected[k], center[k], 12);
            Assert.Equal(expected[k], worker[k], 12);
        }
    }

    [Fact]
    public void TwoWorkers_LearnSeparableBlobs_AndAFashionMnistSubset()
    {
        var blobs = SyntheticData.Blobs<float>(100, 3, 2, seed: 5);
        var blobModel = new ElasticAveragingTrainer<float>(new LinearScore<float>(2, 3), SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.01),
            new ElasticAveragingOptions { Workers = 2, Epochs = 20, BatchSize = 16 }).Train(blobs).Model;
        Assert.True(blobModel.Accuracy(blobs) >= 0.99);

        var subset = Path.Combine(AppContext.BaseDirectory, "TestData", "fashion-mnist-subset");
        var (train, test) = FashionMnist.Load<float>(subset);
        var net = new NetworkBuilder<float>(784, seed: 1).Dense(64, new Relu()).Dense(10).Build();
        var model = new ElasticAveragingTrainer<float>(net, SoftmaxCrossEntropyLoss.Instance, null, new Adam(1e-3),
            new ElasticAveragingOptions { Workers = 2, Epochs = 5, BatchSize = 32, Tau = 4, Alpha = 0.3, Seed = 1 }).Train(train).Model;
        double accuracy = model.Accuracy(test);
        Assert.True(accuracy >= 0.74, $"test accuracy {accuracy:P1}");
    }

    private sealed class FailingLoss(int failAfter) : ILoss
    {
        private int _calls;

        public T Compute<T>(ReadOnlyMatrixSpan<T> scores, ReadOnlySpan<int> labels, MatrixSpan<T> gradient)
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            if (Interlocked.Increment(ref _calls) == failAfter)
                throw new InvalidOperationException("a worker failed");
            return SoftmaxCrossEntropyLoss.Instance.Compute(scores, labels, gradient);
        }
    }

    [Fact]
    public void AWorkerThatThrows_StopsTheRunWithItsException()
    {
        var data = SyntheticData.Blobs<double>(50, 3, 2, seed: 1);
        var score = new LinearScore<double>(2, 3, seed: 2);
        var before = Values(score);
        var trainer = new ElasticAveragingTrainer<double>(score, new FailingLoss(7), null, new Sgd(0.05),
            new ElasticAveragingOptions { Workers = 2, Epochs = 50, BatchSize = 8 });
        var e = Assert.Throws<InvalidOperationException>(() => trainer.Train(data));
        Assert.Equal("a worker failed", e.Message);
        Assert.Equal(before, Values(score));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ElasticAveragingOptions { Alpha = 1.5 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new ElasticAveragingOptions { Tau = 0 });
    }
}
