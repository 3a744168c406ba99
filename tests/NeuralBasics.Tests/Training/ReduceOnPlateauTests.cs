using NeuralBasics.Data;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Scoring;
using NeuralBasics.Training;

namespace NeuralBasics.Tests.Training;

/// <summary>Reduce-on-plateau: the documented rule replayed on the history, the reduced rate equal to a hand-made schedule, and resume.</summary>
public class ReduceOnPlateauTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("neuralbasics-plateau-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Training blobs, and a validation set of the same rows with the labels rotated: its loss rises as the model fits.</summary>
    private static (DataSet<double> Training, DataSet<double> Validation) Data()
    {
        var training = SyntheticData.Blobs<double>(30, 3, 2, spread: 2, seed: 4);
        int[] rotated = [.. training.Labels.ToArray().Select(y => (y + 1) % 3)];
        return (training, new DataSet<double>(training.Features, rotated, 3));
    }

    private static TrainerOptions Options(ReduceOnPlateau? plateau, string? checkpoint = null) =>
        new() { Epochs = 12, BatchSize = 90, Shuffle = false, Seed = 1, ReduceOnPlateau = plateau, CheckpointPath = checkpoint };

    [Fact]
    public void TheScale_FollowsTheDocumentedRule_OnTheValidationLosses()
    {
        var (training, validation) = Data();
        var policy = new ReduceOnPlateau(factor: 0.5, patience: 2, threshold: 0.01, cooldown: 1, minimumScale: 0.2);
        var history = new Trainer<double>(new LinearScore<double>(2, 3, seed: 1), SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.5),
            Options(policy)).Train(training, validation).History;

        // The rule, written out again: best, count, cooldown; the scale an epoch uses is the one before it.
        double best = double.NaN, scale = 1;
        int bad = 0, cooldown = 0;
        var expected = new List<double>();
        foreach (var e in history.Epochs)
        {
            expected.Add(scale);
            double loss = e.ValidationLoss!.Value;
            if (double.IsNaN(best) || loss < best * 0.99) { best = loss; bad = 0; if (cooldown > 0) cooldown--; }
            else if (cooldown > 0) cooldown--;
            else if (++bad >= 2) { scale = Math.Max(scale * 0.5, 0.2); bad = 0; cooldown = 1; }
        }
        Assert.Equal(expected, history.Epochs.Select(e => e.LearningRateScale));
        Assert.Contains(history.Epochs, e => e.LearningRateScale < 1);   // the rotated labels do make it reduce
        Assert.Equal(0.2, history.Epochs.Min(e => e.LearningRateScale));
    }

    [Fact]
    public void AReducedRate_TrainsExactlyAsTheSameRateScheduledByHand()
    {
        var (training, validation) = Data();
        var policy = new ReduceOnPlateau(factor: 0.5, patience: 2);
        var reduced = new LinearScore<double>(2, 3, seed: 1);
        var history = new Trainer<double>(reduced, SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.5), Options(policy)).Train(training, validation).History;
        // One batch per epoch: step t belongs to epoch t + 1.
        double[] scales = [.. history.Epochs.Select(e => e.LearningRateScale)];
        var byHand = new LinearScore<double>(2, 3, seed: 1);
        new Trainer<double>(byHand, SoftmaxCrossEntropyLoss.Instance, null, new Sgd(new ByEpoch(0.5, scales)), Options(null)).Train(training, validation);
        Assert.Equal(reduced.Parameters.SelectMany(p => p.Value.Span.ToArray()), byHand.Parameters.SelectMany(p => p.Value.Span.ToArray()));
        Assert.Contains(scales, s => s < 1);
    }

    [Fact]
    public void AResumedRun_ContinuesWithTheSameScaleAndCount()
    {
        var (training, validation) = Data();
        var policy = new ReduceOnPlateau(factor: 0.5, patience: 2, cooldown: 1);
        var whole = new LinearScore<double>(2, 3, seed: 1);
        new Trainer<double>(whole, SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.5), Options(policy)).Train(training, validation);

        string checkpoint = Path.Combine(_folder, "plateau.ckpt");
        var first = new LinearScore<double>(2, 3, seed: 1);
        new Trainer<double>(first, SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.5), Options(policy, checkpoint) with { Epochs = 7 }).Train(training, validation);
        var resumed = new Trainer<double>(first, SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.5), Options(policy, checkpoint))
            .Resume(checkpoint, training, validation);
        Assert.Equal(whole.Parameters.SelectMany(p => p.Value.Span.ToArray()), first.Parameters.SelectMany(p => p.Value.Span.ToArray()));
        Assert.Equal(12, resumed.History.Epochs.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceOnPlateau(factor: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceOnPlateau(patience: 0));
    }

    /// <summary>lr · scale of the epoch the step is in (one step per epoch).</summary>
    private sealed record ByEpoch(double Rate, double[] Scales) : LearningRateSchedule
    {
        public override double At(long step) => Rate * Scales[Math.Min(step, Scales.Length - 1)];
    }
}
