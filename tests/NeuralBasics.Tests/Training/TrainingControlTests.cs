using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Models;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Scoring;
using NeuralBasics.Training;

namespace NeuralBasics.Tests.Training;

public sealed class TrainingControlTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("neuralbasics-control-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static Sequential<float> Net() => new NetworkBuilder<float>(2, seed: 4).Dense(16, new Tanh()).Dense(3).Build();

    private static float[] Weights(IScoreFunction<float> score) => [.. score.Parameters.SelectMany(p => p.Value.Span.ToArray())];

    private sealed class Recorder<TValue>(Action<TValue> action) : IProgress<TValue>
    {
        public void Report(TValue value) => action(value);
    }

    [Fact]
    public void ResumingFromACheckpoint_EqualsAnUninterruptedRun_BitForBit()
    {
        var data = SyntheticData.Spiral<float>(40, 3, seed: 1);
        var validation = SyntheticData.Spiral<float>(10, 3, seed: 2);
        // Adam's moments and a schedule by step both have to come back exactly.
        UpdateChain Rule() => new([new ClipByGlobalNorm(5)], new Adam(new CosineAnnealing(0.02, 6 * 4, 1e-4)));
        TrainerOptions Options(int epochs, string? checkpoint = null) =>
            new() { Epochs = epochs, BatchSize = 32, Seed = 11, CheckpointPath = checkpoint };

        var straight = Net();
        var straightResult = new Trainer<float>(straight, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-3), Rule(), Options(6)).Train(data, validation);

        string path = Path.Combine(_folder, "run.ckpt");
        new Trainer<float>(Net(), SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-3), Rule(), Options(3, path)).Train(data, validation);
        var resumed = new NetworkBuilder<float>(2, seed: 99).Dense(16, new Tanh()).Dense(3).Build(); // other initial weights: the checkpoint replaces them
        var resumedResult = new Trainer<float>(resumed, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-3), Rule(), Options(6))
            .Resume(path, data, validation);

        Assert.Equal(Weights(straight), Weights(resumed));
        Assert.Equal(6, resumedResult.History.Epochs.Count);
        Assert.Equal(straightResult.History.Epochs.Select(e => e.TotalLoss), resumedResult.History.Epochs.Select(e => e.TotalLoss));
    }

    [Fact]
    public void ACheckpointForAnotherRuleOrNetwork_IsRefused_WithoutChangingAnything()
    {
        var data = SyntheticData.Spiral<float>(20, 3, seed: 1);
        string path = Path.Combine(_folder, "adam.ckpt");
        new Trainer<float>(Net(), SoftmaxCrossEntropyLoss.Instance, null, new Adam(), new TrainerOptions { Epochs = 1, CheckpointPath = path }).Train(data);

        var net = Net();
        var before = Weights(net);
        var e = Assert.Throws<InvalidDataException>(() =>
            new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.1), new TrainerOptions { Epochs = 2 }).Resume(path, data));
        Assert.Contains("Adam", e.Message);
        var wider = new NetworkBuilder<float>(2, seed: 4).Dense(17, new Tanh()).Dense(3).Build();
        e = Assert.Throws<InvalidDataException>(() =>
            new Trainer<float>(wider, SoftmaxCrossEntropyLoss.Instance, null, new Adam(), new TrainerOptions { Epochs = 2 }).Resume(path, data));
        Assert.Contains("shape", e.Message);
        Assert.Equal(before, Weights(net));
    }

    [Fact]
    public void CancellingMidEpoch_LeavesAModelThatStillPredicts()
    {
        var data = SyntheticData.Spiral<float>(100, 3, seed: 1);
        var net = Net();
        using var cts = new CancellationTokenSource();
        int batches = 0;
        var onBatch = new Recorder<BatchResult>(b =>
        {
            if (++batches == 3)
                cts.Cancel();
        });
        var trainer = new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.01), new TrainerOptions { Epochs = 5, BatchSize = 20 });
        Assert.ThrowsAny<OperationCanceledException>(() => trainer.Train(data, batchProgress: onBatch, cancellationToken: cts.Token));
        Assert.Equal(3, batches);

        var model = new Classifier<float>(net, SoftmaxCrossEntropyLoss.Instance);
        var scores = model.Scores(data.Features);
        Assert.All(scores.Span.ToArray(), v => Assert.True(float.IsFinite(v)));
        Assert.Equal(data.Count, model.Predict(data.Features).Length);
    }

    [Fact]
    public void EarlyStopping_StopsAfterPatience_AndRestoresTheBestEpochsWeights()
    {
        var data = SyntheticData.Spiral<float>(40, 3, seed: 1);
        var validation = SyntheticData.Spiral<float>(20, 3, seed: 7);
        var net = Net();
        var snapshots = new Dictionary<int, float[]>();
        var onEpoch = new Recorder<EpochResult>(e => snapshots[e.Epoch] = Weights(net));
        // A deliberately noisy run (large steps) so the validation loss goes up and down.
        var result = new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, null, new Sgd(2.0),
            new TrainerOptions { Epochs = 40, BatchSize = 8, Seed = 3, EarlyStopping = new EarlyStopping(patience: 3) }).Train(data, validation, onEpoch);

        var history = result.History;
        int best = history.BestEpoch!.Value;
        double bestLoss = history.Epochs.Single(e => e.Epoch == best).ValidationLoss!.Value;
        Assert.Equal(history.Epochs.Min(e => e.ValidationLoss!.Value), bestLoss);
        Assert.Equal(snapshots[best], Weights(net));
        if (history.StoppedEarly)
            Assert.Equal(best + 3, history.Epochs.Count);
        Assert.True(history.StoppedEarly || history.Epochs.Count == 40);
    }

    [Fact]
    public void EarlyStopping_WithAnImpossibleImprovement_KeepsTheFirstEpoch()
    {
        var data = SyntheticData.Spiral<float>(40, 3, seed: 1);
        var net = Net();
        var snapshots = new Dictionary<int, float[]>();
        var onEpoch = new Recorder<EpochResult>(e => snapshots[e.Epoch] = Weights(net));
        var result = new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.01),
            new TrainerOptions { Epochs = 10, EarlyStopping = new EarlyStopping(2, EarlyStoppingMetric.ValidationAccuracy, minDelta: 2) })
            .Train(data, data, onEpoch);
        Assert.True(result.History.StoppedEarly);
        Assert.Equal(3, result.History.Epochs.Count);
        Assert.Equal(1, result.History.BestEpoch);
        Assert.Equal(snapshots[1], Weights(net));

        var e = Assert.Throws<ArgumentException>(() => new Trainer<float>(Net(), SoftmaxCrossEntropyLoss.Instance, null, new Adam(),
            new TrainerOptions { EarlyStopping = new EarlyStopping(2) }).Train(data));
        Assert.Contains("validation", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping(0));
    }

    [Fact]
    public void GradientClipping_ScalesTheGlobalNormDownToTheLimit()
    {
        // With SGD at lr 1 the parameter change is exactly minus the (clipped) gradient.
        var x = TestData.Uniform<double>(8, 3, 1, scale: 20);
        int[] y = [0, 1, 2, 0, 1, 2, 0, 1];
        var reference = new LinearScore<double>(3, 3, seed: 2);
        var clipped = reference.Clone();
        var plain = new TrainingStep<double>(reference, new SquaredHingeLoss(), null, new Sgd(1.0));
        var limited = new TrainingStep<double>(clipped, new SquaredHingeLoss(), null, new UpdateChain([new ClipByGlobalNorm(0.5)], new Sgd(1.0)));
        var before = reference.Parameters.SelectMany(p => p.Value.Span.ToArray()).ToArray();
        plain.Run(x, y);
        limited.Run(x, y);
        Assert.True(plain.LastGradientNorm > 0.5);
        Assert.Equal(plain.LastGradientNorm, limited.LastGradientNorm, 12);
        var fullStep = reference.Parameters.SelectMany(p => p.Value.Span.ToArray()).Zip(before, (a, b) => a - b).ToArray();
        var clippedStep = clipped.Parameters.SelectMany(p => p.Value.Span.ToArray()).Zip(before, (a, b) => a - b).ToArray();
        Assert.Equal(0.5, Math.Sqrt(clippedStep.Sum(v => v * v)), 12);
        for (int k = 0; k < fullStep.Length; k++)
            Assert.Equal(fullStep[k] * 0.5 / plain.LastGradientNorm, clippedStep[k], 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ClipByGlobalNorm(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ClipByGlobalNorm(double.PositiveInfinity));
        Assert.Throws<ArgumentNullException>(() => new UpdateChain([null!], new Sgd(1.0)));
    }

    [Fact]
    public void BatchProgress_ReportsEveryBatch()
    {
        var data = SyntheticData.Blobs<float>(25, 3, 2, seed: 1); // 75 samples, batches of 20: 4 per epoch
        var reports = new List<BatchResult>();
        var epochs = new List<EpochResult>();
        new Trainer<float>(new LinearScore<float>(2, 3), SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.01),
            new TrainerOptions { Epochs = 2, BatchSize = 20 }).Train(data, data, new Recorder<EpochResult>(epochs.Add), new Recorder<BatchResult>(reports.Add));
        Assert.Equal(8, reports.Count);
        Assert.Equal([1, 2, 3, 4, 1, 2, 3, 4], reports.Select(r => r.Batch));
        Assert.All(reports, r => Assert.Equal(4, r.BatchCount));
        Assert.All(reports, r => Assert.InRange(r.Accuracy, 0, 1));
        Assert.All(reports, r => Assert.True(r.SamplesPerSecond > 0 && double.IsFinite(r.DataLoss)));
        Assert.All(epochs, e => Assert.True(e.SamplesPerSecond > 0 && e.ValidationLoss is not null));
    }

    /// <summary>A checkpoint records the settings that shape the run; resuming with others is refused naming each, unless asked for.</summary>
    [Fact]
    public void ResumingWithOtherSettings_IsRefusedNamingEachDifference_UnlessAllowed()
    {
        string path = Path.Combine(_folder, "settings.safetensors");
        var data = SyntheticData.Blobs<float>(40, 3, 4, seed: 2);
        var options = new TrainerOptions { Epochs = 2, BatchSize = 16, Seed = 7, CheckpointPath = path };
        Sequential<float> Net() => new NetworkBuilder<float>(4, seed: 5).Dense(8, new Relu()).Dense(3).Build();
        new Trainer<float>(Net(), SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-4), new Adam(0.01), options).Train(data);
        byte[] written = File.ReadAllBytes(path);

        InvalidDataException Refused(UpdateChain update, TrainerOptions changed, IRegularizer? regularizer = null)
        {
            File.WriteAllBytes(path, written);
            var e = Assert.Throws<InvalidDataException>(() =>
                new Trainer<float>(Net(), SoftmaxCrossEntropyLoss.Instance, regularizer ?? new L2Regularization(1e-4), update, changed with { Epochs = 4 }).Resume(path, data));
            Assert.Equal(written, File.ReadAllBytes(path));
            return e;
        }

        Assert.Contains("rule.beta1 was 0.9, now 0.95", Refused(new Adam(0.01) { Beta1 = 0.95 }, options).Message);
        Assert.Contains("rule.learning_rate.value was 0.01, now 0.02", Refused(new Adam(0.02), options).Message);
        Assert.Contains("rule.learning_rate.name was \"ConstantLearningRate\", now \"CosineAnnealing\"", Refused(new Adam(new CosineAnnealing(0.01, 100)), options).Message);
        var several = Refused(new UpdateChain([new ClipByGlobalNorm(1)], new Adam(0.01)), options with { BatchSize = 8, Seed = 3 }, new L2Regularization(1e-3)).Message;
        Assert.Contains("transforms[0].max_norm was (none), now 1", several);
        Assert.Contains("regularizer.lambda was 0.0001, now 0.001", several);
        Assert.Contains("batch_size was 16, now 8", several);
        Assert.Contains("seed was 7, now 3", several);
        Assert.Contains("AllowChangedSettingsOnResume", several);

        // Asked for: the run goes on with the new settings.
        File.WriteAllBytes(path, written);
        var result = new Trainer<float>(Net(), SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-4), new Adam(0.02),
            options with { Epochs = 3, AllowChangedSettingsOnResume = true }).Resume(path, data);
        Assert.Equal([1, 2, 3], result.History.Epochs.Select(e => e.Epoch));

        // The same settings (more epochs are not a change): resumes.
        File.WriteAllBytes(path, written);
        Assert.Equal(4, new Trainer<float>(Net(), SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-4), new Adam(0.01), options with { Epochs = 4 })
            .Resume(path, data).History.Epochs.Count);
    }

    /// <summary>A checkpoint written before the components described themselves (TestData/formats/WrittenBy.cs.txt) resumes.</summary>
    [Fact]
    public void ACheckpointWrittenBeforeTheComponentRegistry_StillResumes()
    {
        string path = Path.Combine(_folder, "old.safetensors");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "TestData", "formats", "checkpoint-mlp-2026-12.safetensors"), path);
        var data = SyntheticData.Blobs<float>(40, 4, 6, seed: 11);
        var mlp = new NetworkBuilder<float>(6, seed: 5).Dense(10, new Relu()).Dense(4).Build();
        var result = new Trainer<float>(mlp, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-4), new Adam(new CosineAnnealing(0.01, 40, 1e-4)),
            new TrainerOptions { Epochs = 4, BatchSize = 16, Seed = 7, CheckpointPath = path }).Resume(path, data);
        Assert.Equal([1, 2, 3, 4], result.History.Epochs.Select(e => e.Epoch));
        Assert.True(result.History.Epochs[3].DataLoss < result.History.Epochs[0].DataLoss, result.History.ToString());
    }
}

public class DivergenceTests
{
    private static DataSet<float> DataWithOneMonstrousSample()
    {
        // 60 well-behaved points and, at index 17, one whose features are near float's limit: with
        // weights of order 10 its scores overflow to ±∞, so any batch holding it has a NaN loss.
        var clean = SyntheticData.Blobs<float>(20, 3, 2, seed: 1);
        var x = clean.Features.Clone();
        x[17, 0] = 3e38f;
        x[17, 1] = 3e38f;
        return new DataSet<float>(x, clean.Labels, 3);
    }

    [Fact]
    public void ANonFiniteBatch_StopsTraining_NamingEpochBatchAndValue()
    {
        var score = new LinearScore<float>(2, 3, weightScale: 10, seed: 1);
        var initial = score.Weights.Value.Span.ToArray();
        var trainer = new Trainer<float>(score, new SquaredHingeLoss(), null, new Sgd(1e-6),
            new TrainerOptions { Epochs = 3, BatchSize = 10, Shuffle = false });
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Train(DataWithOneMonstrousSample()));
        Assert.Equal(1, e.Epoch);
        Assert.Equal(2, e.Batch); // samples 10..19
        Assert.Contains("data loss", e.Problem);
        Assert.Contains("epoch 1, batch 2", e.Message);
        Assert.Equal(initial, score.Weights.Value.Span.ToArray());
    }

    [Fact]
    public void SkipNonFiniteBatches_SkipsThemAndGoesOn()
    {
        // Batch 2 holds the monstrous sample: it is skipped in every epoch and batches 3..6 still
        // run. The running epoch figures leave the skipped batch out, so the run ends normally.
        var score = new LinearScore<float>(2, 3, weightScale: 10, seed: 1);
        var batches = new List<BatchResult>();
        var trainer = new Trainer<float>(score, new SquaredHingeLoss(), null, new Sgd(1e-6),
            new TrainerOptions { Epochs = 3, BatchSize = 10, Shuffle = false, SkipNonFiniteBatches = true });
        var result = trainer.Train(DataWithOneMonstrousSample(), batchProgress: new Recorder(batches.Add));
        Assert.Equal(3, result.History.SkippedBatches);
        Assert.Equal(3, result.History.Epochs.Count);
        Assert.All(result.History.Epochs, e => Assert.True(double.IsFinite(e.TotalLoss)));
        Assert.Equal([1, 3, 4, 5, 6, 1, 3, 4, 5, 6, 1, 3, 4, 5, 6], batches.Select(b => b.Batch));

        // Measured over the whole training set, which includes the monstrous sample, the epoch's
        // loss is not finite either, and that does stop the run.
        score = new LinearScore<float>(2, 3, weightScale: 10, seed: 1);
        batches.Clear();
        trainer = new Trainer<float>(score, new SquaredHingeLoss(), null, new Sgd(1e-6),
            new TrainerOptions { Epochs = 3, BatchSize = 10, Shuffle = false, SkipNonFiniteBatches = true, EvaluateTrainingSet = true });
        var e = Assert.Throws<TrainingDivergedException>(() =>
            trainer.Train(DataWithOneMonstrousSample(), batchProgress: new Recorder(batches.Add)));
        Assert.Null(e.Batch);
        Assert.Equal(1, e.History.SkippedBatches);
        Assert.Equal([1, 3, 4, 5, 6], batches.Select(b => b.Batch));
        Assert.All(score.Parameters.SelectMany(p => p.Value.Span.ToArray()), v => Assert.True(float.IsFinite(v)));
    }

    private sealed class Recorder(Action<BatchResult> action) : IProgress<BatchResult>
    {
        public void Report(BatchResult value) => action(value);
    }
}
