using NeuralBasics.Data;
using NeuralBasics.Evaluation;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Scoring;
using NeuralBasics.Training;

namespace NeuralBasics.Tests.Training;

public class TrainerTests
{
    public static TheoryData<string> Losses() => new() { "hinge", "softmax" };

    private static ILoss LossNamed(string name) => name == "hinge" ? new MulticlassHingeLoss() : SoftmaxCrossEntropyLoss.Instance;

    [Theory]
    [MemberData(nameof(Losses))]
    public void LinearlySeparableBlobs_ReachAtLeast99Percent(string lossName)
    {
        var data = SyntheticData.Blobs<float>(pointsPerClass: 100, classCount: 3, featureCount: 2, seed: 5);
        var score = new LinearScore<float>(2, 3, seed: 1);
        var trainer = new Trainer<float>(score, LossNamed(lossName), new L2Regularization(1e-4), new Sgd(0.01),
            new TrainerOptions { Epochs = 30, BatchSize = 32, Seed = 7 });

        var result = trainer.Train(data);

        Assert.Equal(30, result.History.Epochs.Count);
        Assert.True(result.History.Last!.TrainingAccuracy >= 0.99, result.History.Last.ToString());
        Assert.True(result.Model.Accuracy(data) >= 0.99);
        Assert.True(result.History.Epochs[^1].TotalLoss < result.History.Epochs[0].TotalLoss);
    }

    [Theory]
    [MemberData(nameof(Losses))]
    public void Spiral_StaysNearChanceForALinearClassifier(string lossName)
    {
        // Three arms wound around each other: no three half-planes separate them, so the best a
        // linear classifier can do is far from 100% (about 50%; chance is 33%).
        var data = SyntheticData.Spiral<double>(pointsPerClass: 100, classCount: 3, seed: 2);
        var trainer = new Trainer<double>(new LinearScore<double>(2, 3, seed: 1), LossNamed(lossName), new L2Regularization(1e-3),
            new Sgd(0.5), new TrainerOptions { Epochs = 100, BatchSize = 300, Seed = 1 });
        var result = trainer.Train(data);
        Assert.InRange(result.History.Last!.TrainingAccuracy, 0.3, 0.6);
    }

    [Fact]
    public void SeededRuns_AreBitIdentical_AndSeedsMatter()
    {
        static float[] Run(int seed)
        {
            var data = SyntheticData.Blobs<float>(50, 4, 5, seed: 3);
            var score = new LinearScore<float>(5, 4, seed: 9);
            new Trainer<float>(score, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(0.01), new Sgd(0.005),
                new TrainerOptions { Epochs = 5, BatchSize = 16, Seed = seed }).Train(data);
            return [.. score.Weights.Value.Span, .. score.Biases.Value.Span];
        }

        Assert.Equal(Run(1), Run(1));
        Assert.NotEqual(Run(1), Run(2));
    }

    [Fact]
    public void OneEpochWithoutShuffling_EqualsTheStepsDoneByHand_IncludingThePartialLastBatch()
    {
        var data = SyntheticData.Blobs<double>(5, 2, 3, seed: 4); // 10 samples: batches of 4, 4 and 2
        var loss = new MulticlassHingeLoss();
        var l2 = new L2Regularization(0.05);
        var rule = new Sgd(0.1);

        var trained = new LinearScore<double>(3, 2, seed: 6);
        new Trainer<double>(trained, loss, l2, rule, new TrainerOptions { Epochs = 1, BatchSize = 4, Shuffle = false }).Train(data);

        var byHand = new LinearScore<double>(3, 2, seed: 6);
        var wState = rule.CreateState<double>(6);
        var bState = rule.CreateState<double>(2);
        foreach (var (start, size) in new[] { (0, 4), (4, 4), (8, 2) })
        {
            var x = data.Features.SliceRows(start, size);
            var s = new Matrix<double>(size, 2);
            var ds = new Matrix<double>(size, 2);
            byHand.Forward(x, s);
            loss.Compute<double>(s, data.Labels.Slice(start, size), ds);
            byHand.Backward(x, ds, default);
            l2.AddGradient<double>(byHand.Weights.Value.Span, byHand.Weights.Gradient.Span);
            rule.Apply<double>(byHand.Weights.Value.Span, byHand.Weights.Gradient.Span, wState);
            rule.Apply<double>(byHand.Biases.Value.Span, byHand.Biases.Gradient.Span, bState);
        }

        Assert.Equal(byHand.Weights.Value.Span.ToArray(), trained.Weights.Value.Span.ToArray());
        Assert.Equal(byHand.Biases.Value.Span.ToArray(), trained.Biases.Value.Span.ToArray());
    }

    /// <summary>
    /// By default an epoch's training figures are the running mean over its batches (each batch's
    /// loss and accuracy under the weights before its step, weighted by the batch's size); with
    /// <see cref="TrainerOptions.EvaluateTrainingSet"/> they are measured on the whole set with the
    /// final weights. Both are computed here by hand, as is the validation loss.
    /// </summary>
    [Fact]
    public void EpochFigures_AreTheRunningBatchMean_OrTheWholeSetWhenAsked()
    {
        var data = SyntheticData.Blobs<double>(5, 2, 3, seed: 4); // 10 samples: batches of 4, 4 and 2
        var validation = SyntheticData.Blobs<double>(7, 2, 3, seed: 5);
        var loss = new SoftmaxCrossEntropyLoss([1, 3]);
        var rule = new Sgd(0.5);

        var byHand = new LinearScore<double>(3, 2, seed: 6);
        var wState = rule.CreateState<double>(6);
        var bState = rule.CreateState<double>(2);
        double lossSum = 0;
        int correct = 0;
        foreach (var (start, size) in new[] { (0, 4), (4, 4), (8, 2) })
        {
            var x = data.Features.SliceRows(start, size);
            var s = new Matrix<double>(size, 2);
            var ds = new Matrix<double>(size, 2);
            byHand.Forward(x, s);
            lossSum += loss.Compute<double>(s, data.Labels.Slice(start, size), ds) * size;
            for (int i = 0; i < size; i++)
                correct += (s[i, 1] > s[i, 0] ? 1 : 0) == data.Labels[start + i] ? 1 : 0;
            byHand.Backward(x, ds, default);
            rule.Apply<double>(byHand.Weights.Value.Span, byHand.Weights.Gradient.Span, wState);
            rule.Apply<double>(byHand.Biases.Value.Span, byHand.Biases.Gradient.Span, bState);
        }
        (double Loss, double Accuracy) WholeSet(DataSet<double> set)
        {
            var s = new Matrix<double>(set.Count, 2);
            byHand.Forward(set.Features, s);
            int right = 0;
            for (int i = 0; i < set.Count; i++)
                right += (s[i, 1] > s[i, 0] ? 1 : 0) == set.Labels[i] ? 1 : 0;
            return (loss.Compute<double>(s, set.Labels, default), (double)right / set.Count);
        }

        var running = new Trainer<double>(new LinearScore<double>(3, 2, seed: 6), loss, null, rule,
            new TrainerOptions { Epochs = 1, BatchSize = 4, Shuffle = false }).Train(data, validation).History.Last!;
        Assert.Equal(lossSum / 10, running.DataLoss, 14);
        Assert.Equal(correct / 10.0, running.TrainingAccuracy);
        Assert.Equal(WholeSet(validation).Loss, running.ValidationLoss!.Value, 14);
        Assert.Equal(WholeSet(validation).Accuracy, running.ValidationAccuracy);

        var whole = new Trainer<double>(new LinearScore<double>(3, 2, seed: 6), loss, null, rule,
            new TrainerOptions { Epochs = 1, BatchSize = 4, Shuffle = false, EvaluateTrainingSet = true }).Train(data).History.Last!;
        Assert.Equal(WholeSet(data).Loss, whole.DataLoss, 14);
        Assert.Equal(WholeSet(data).Accuracy, whole.TrainingAccuracy);
        Assert.NotEqual(whole.DataLoss, running.DataLoss);
    }

    /// <summary>
    /// The whole-set evaluation goes in chunks of 1,024 rows spread over the cores: on 2,502 rows
    /// (three chunks, the last partial) it equals the loss and accuracy of one direct pass, and one
    /// core or all give the same bits.
    /// </summary>
    [Fact]
    public void WholeSetEvaluation_InChunksOnEveryCore_EqualsOneDirectPass()
    {
        var data = SyntheticData.Spiral<double>(pointsPerClass: 834, classCount: 3, seed: 3); // 2,502 rows
        var net = new NeuralBasics.Layers.NetworkBuilder<double>(2, seed: 4).Dense(16, new NeuralBasics.Activations.Tanh()).Dense(3).Build();
        var loss = new MulticlassHingeLoss(classWeights: [1, 2, 0.5]);
        var scores = new Matrix<double>(data.Count, 3);
        net.Forward(data.Features, scores);
        var predicted = new int[data.Count];
        NeuralBasics.Kernels.RowOps.RowArgMax<double>(scores, predicted);
        double directLoss = loss.Compute<double>(scores, data.Labels, default);

        var onAllCores = new DataSetEvaluator<double>(net, loss).Evaluate(data);
        int saved = NeuralBasics.Kernels.Gemm.DefaultMaxDegreeOfParallelism;
        (double Loss, double Accuracy) onOneCore;
        try
        {
            NeuralBasics.Kernels.Gemm.DefaultMaxDegreeOfParallelism = 1;
            onOneCore = new DataSetEvaluator<double>(net, loss).Evaluate(data);
        }
        finally
        {
            NeuralBasics.Kernels.Gemm.DefaultMaxDegreeOfParallelism = saved;
        }
        Assert.Equal(directLoss, onAllCores.Loss, 12);
        Assert.Equal(Metrics.Accuracy(predicted, data.Labels), onAllCores.Accuracy);
        Assert.Equal(onOneCore, onAllCores);
    }

    [Fact]
    public void History_ReportsValidationAccuracy_AndProgress()
    {
        var train = SyntheticData.Blobs<double>(40, 3, 2, seed: 1);
        var validation = SyntheticData.Blobs<double>(20, 3, 2, seed: 1);
        var reports = new List<EpochResult>();
        var progress = new SynchronousProgress<EpochResult>(reports.Add);
        var result = new Trainer<double>(new LinearScore<double>(2, 3), SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.01),
            new TrainerOptions { Epochs = 3 }).Train(train, validation, progress);
        Assert.Equal(3, reports.Count);
        Assert.Equal(result.History.Epochs, reports);
        Assert.All(reports, r => Assert.NotNull(r.ValidationAccuracy));
        Assert.Equal(result.Model.Accuracy(validation), reports[^1].ValidationAccuracy);
        Assert.Equal(0, reports[0].RegularizationLoss);
    }

    [Fact]
    public void Divergence_OnTheFirstEpoch_RollsBackToTheInitialWeights()
    {
        // The spiral cannot be fitted, so a huge step keeps growing the weights until the
        // squared hinge overflows float. Measured on the whole training set after the epoch, the
        // loss of the first epoch's (finite but huge) weights already overflows.
        var data = SyntheticData.Spiral<float>(20, 3, seed: 1);
        var score = new LinearScore<float>(2, 3, seed: 2);
        var initial = score.Weights.Value.Span.ToArray();
        var trainer = new Trainer<float>(score, new SquaredHingeLoss(), null, new Sgd(1e30),
            new TrainerOptions { Epochs = 5, BatchSize = 60, EvaluateTrainingSet = true });
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Train(data));
        Assert.Contains("diverged", e.Message);
        Assert.Contains("learning rate", e.Message);
        Assert.Contains("initial", e.Message);
        Assert.Empty(e.History.Epochs);
        Assert.Equal(initial, score.Weights.Value.Span.ToArray());
    }

    [Fact]
    public void Divergence_AfterGoodEpochs_RollsBackToTheLastGoodEpoch()
    {
        var data = SyntheticData.Spiral<float>(20, 3, seed: 1);
        var score = new LinearScore<float>(2, 3, seed: 2);
        float[] atLastEpoch = [];
        var progress = new SynchronousProgress<EpochResult>(_ => atLastEpoch = score.Weights.Value.Span.ToArray());
        var trainer = new Trainer<float>(score, new SquaredHingeLoss(), null, new Sgd(20), new TrainerOptions { Epochs = 1000, BatchSize = 60 });
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Train(data, progress: progress));
        Assert.NotEmpty(e.History.Epochs);
        Assert.Contains($"end of epoch {e.History.Epochs.Count}", e.Message);
        Assert.Equal(atLastEpoch, score.Weights.Value.Span.ToArray());
        Assert.All(atLastEpoch, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void MismatchedData_Throws_BeforeAnyWeightChanges()
    {
        var score = new LinearScore<double>(3, 2, seed: 1);
        var before = score.Weights.Value.Span.ToArray();
        var trainer = new Trainer<double>(score, new MulticlassHingeLoss(), null, new Sgd(0.1));
        var e = Assert.Throws<ArgumentException>(() => trainer.Train(SyntheticData.Blobs<double>(5, 2, featureCount: 4)));
        Assert.Contains("4 features", e.Message);
        e = Assert.Throws<ArgumentException>(() => trainer.Train(SyntheticData.Blobs<double>(5, 2, 3), SyntheticData.Blobs<double>(5, 3, 3)));
        Assert.Contains("3 classes", e.Message);
        Assert.Equal(before, score.Weights.Value.Span.ToArray());

        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainerOptions { BatchSize = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainerOptions { Epochs = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new L2Regularization(-0.1));
    }

    [Fact]
    public void Cancellation_StopsBetweenBatches()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var trainer = new Trainer<double>(new LinearScore<double>(2, 3), SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.1));
        Assert.ThrowsAny<OperationCanceledException>(() => trainer.Train(SyntheticData.Blobs<double>(10, 3), cancellationToken: cts.Token));
    }

    [Fact]
    public void Classifier_PredictsScoresAndProbabilities()
    {
        var data = SyntheticData.Blobs<double>(30, 3, 2, seed: 8);
        var softmax = new Trainer<double>(new LinearScore<double>(2, 3), SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.01),
            new TrainerOptions { Epochs = 10 }).Train(data).Model;
        var p = softmax.Probabilities(data.Features);
        for (int i = 0; i < p.Rows; i++)
            Assert.Equal(1.0, p.Row(i).ToArray().Sum(), 12);
        var predicted = softmax.Predict(data.Features);
        var scores = softmax.Scores(data.Features);
        for (int i = 0; i < predicted.Length; i++)
            Assert.Equal(scores.Row(i).ToArray().ToList().IndexOf(scores.Row(i).ToArray().Max()), predicted[i]);

        var svm = new Trainer<double>(new LinearScore<double>(2, 3), new MulticlassHingeLoss(), null, new Sgd(0.01),
            new TrainerOptions { Epochs = 1 }).Train(data).Model;
        Assert.False(svm.HasProbabilities);
        Assert.Throws<InvalidOperationException>(() => svm.Probabilities(data.Features));

        // Predict from many threads at once agrees with the single-threaded answer.
        Parallel.For(0, 16, _ => Assert.Equal(predicted, softmax.Predict(data.Features)));
    }

    [Fact]
    public void Classifier_IsFrozen()
    {
        var data = SyntheticData.Blobs<double>(30, 3, 2, seed: 8);
        var score = new LinearScore<double>(2, 3);
        var model = new Trainer<double>(score, SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.01)).Train(data).Model;
        var before = model.Scores(data.Features).Span.ToArray();
        score.Weights.Value.Span.Fill(0);
        Assert.Equal(before, model.Scores(data.Features).Span.ToArray());
    }

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    [Fact]
    public async Task ASecondRunOnOneTrainer_IsRefusedWhileTheFirstRuns_AndAllowedAfter()
    {
        var data = SyntheticData.Blobs<float>(30, 3, 2, seed: 3);
        var trainer = new Trainer<float>(new LinearScore<float>(2, 3, seed: 1), SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.01),
            new TrainerOptions { Epochs = 2, BatchSize = 16, Seed = 1 });
        using var inFirstEpoch = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var first = Task.Run(() => trainer.Train(data, progress: new SynchronousProgress<EpochResult>(_ =>
        {
            inFirstEpoch.Set();
            Assert.True(release.Wait(TimeSpan.FromSeconds(30)));
        })));
        Assert.True(inFirstEpoch.Wait(TimeSpan.FromSeconds(30)));

        var e = Assert.Throws<InvalidOperationException>(() => trainer.Train(data));
        Assert.Contains("already training", e.Message);
        Assert.Throws<InvalidOperationException>(() => trainer.Resume("no-such-checkpoint.safetensors", data));
        release.Set();
        Assert.Equal(2, (await first.WaitAsync(TimeSpan.FromSeconds(30))).History.Epochs.Count);

        // A refused or failed run leaves the trainer free.
        Assert.Throws<ArgumentException>(() => trainer.Train(SyntheticData.Blobs<float>(10, 3, 5, seed: 1)));
        Assert.Equal(2, trainer.Train(data).History.Epochs.Count);
    }
}
