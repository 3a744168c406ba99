using NeuralBasics.Data;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Scoring;
using NeuralBasics.Selection;
using NeuralBasics.Training;

namespace NeuralBasics.Tests.Selection;

/// <summary>Stratified folds, random and grid search, pruning and cross-validation on a small problem.</summary>
public class ModelSelectionTests
{
    private static readonly DataSet<double> Data = SyntheticData.Blobs<double>(pointsPerClass: 40, classCount: 3, featureCount: 2, spread: 3, seed: 5);

    private static Trainer<double> Build(Trial trial) =>
        new(new LinearScore<double>(2, 3, seed: trial.Seed), SoftmaxCrossEntropyLoss.Instance, new L2Regularization(trial["lambda"]),
            new Sgd(trial["lr"]), new TrainerOptions { Epochs = 6, BatchSize = 16, Seed = trial.Seed });

    [Fact]
    public void StratifiedFolds_PutEverySampleInOneValidationFold_AndKeepTheClassesEven()
    {
        var data = SyntheticData.Blobs<double>(pointsPerClass: 11, classCount: 3, seed: 1);
        var folds = DataSplit.StratifiedFolds(data, 4, seed: 2).ToList();
        Assert.Equal(4, folds.Count);
        Assert.Equal(data.Count, folds.Sum(f => f.Validation.Count));
        Assert.All(folds, f => Assert.Equal(data.Count, f.Train.Count + f.Validation.Count));
        // Every validation row is a row of the data, and no row is validated twice.
        var seen = new HashSet<string>();
        foreach (var (_, validation) in folds)
            for (int i = 0; i < validation.Count; i++)
                Assert.True(seen.Add(string.Join(",", validation.Features.Row(i).ToArray())));
        for (int c = 0; c < 3; c++)
        {
            int[] counts = [.. folds.Select(f => f.Validation.Labels.ToArray().Count(y => y == c))];
            Assert.True(counts.Max() - counts.Min() <= 1, string.Join(",", counts));
        }
        Assert.Equal(folds[1].Validation.Labels.ToArray(), DataSplit.StratifiedFolds(data, 4, seed: 2).ElementAt(1).Validation.Labels.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => DataSplit.StratifiedFolds(data, 1).ToList());
    }

    [Fact]
    public void RandomSearch_DrawsWithinTheRanges_SortsByScore_AndRepeatsOnAnyNumberOfCores()
    {
        var (train, validation) = DataSplit.Stratified(Data, 0.25, seed: 1);
        Hyperparameter[] space = [Hyperparameter.LogUniform("lr", 1e-4, 1), Hyperparameter.LogUniform("lambda", 1e-5, 1e-1)];
        var one = HyperparameterSearch.Random(space, Build, train, validation, new SearchOptions { Trials = 12, Seed = 3, Parallelism = 1 });
        var all = HyperparameterSearch.Random(space, Build, train, validation, new SearchOptions { Trials = 12, Seed = 3, Parallelism = 4 });

        Assert.Equal(12, one.Results.Count);
        Assert.All(one.Results, r => Assert.InRange(r.Trial["lr"], 1e-4, 1));
        Assert.All(one.Results, r => Assert.InRange(r.Trial["lambda"], 1e-5, 1e-1));
        Assert.Equal(one.Results.Select(r => (r.Trial.Number, r.Trial.Seed, r.ValidationAccuracy, r.ValidationLoss, r.Pruned)),
            all.Results.Select(r => (r.Trial.Number, r.Trial.Seed, r.ValidationAccuracy, r.ValidationLoss, r.Pruned)));
        for (int i = 1; i < one.Results.Count; i++)
            Assert.True(one.Results[i - 1].ValidationAccuracy >= one.Results[i].ValidationAccuracy);
        Assert.Equal(12, one.Results.Select(r => r.Trial.Seed).Distinct().Count());
        Assert.Contains("val acc", one.ToString());

        // The best configuration, trained again on everything.
        var refit = one.Refit(Build, Data);
        Assert.True(refit.Model.Accuracy(Data) > 0.8);
    }

    [Fact]
    public void TrialsWorseThanTheEarlierMedian_AreStoppedEarly()
    {
        var (train, validation) = DataSplit.Stratified(Data, 0.25, seed: 1);
        // Four good trials in the first wave, then hopeless learning rates: those are pruned at epoch 2.
        Hyperparameter[] space = [Hyperparameter.Choice("lr", 0.1), Hyperparameter.Choice("lambda", 1e-4)];
        Trainer<double> Build2(Trial trial) => Build(trial.Number < 4 ? trial : trial with { Values = new Dictionary<string, double> { ["lr"] = 1e-6, ["lambda"] = 1e-4 } });
        var result = HyperparameterSearch.Random(space, Build2, train, validation, new SearchOptions { Trials = 8, Seed = 1, WaveSize = 4 });
        Assert.All(result.Results.Where(r => r.Trial.Number < 4), r => Assert.False(r.Pruned));
        Assert.All(result.Results.Where(r => r.Trial.Number >= 4), r => Assert.True(r.Pruned && r.Epochs == 2, $"trial {r.Trial.Number}: {r}"));
    }

    [Fact]
    public void GridSearch_TriesEveryCombination_LogSpaced()
    {
        var (train, validation) = DataSplit.Stratified(Data, 0.25, seed: 1);
        Hyperparameter[] space = [Hyperparameter.LogUniform("lr", 1e-3, 1e-1), Hyperparameter.Choice("lambda", 0, 1e-3)];
        var result = HyperparameterSearch.Grid(space, Build, train, validation, new SearchOptions { GridPoints = 3, Prune = false });
        Assert.Equal(6, result.Results.Count);
        var rates = result.Results.Select(r => r.Trial["lr"]).Distinct().Order().ToArray();
        Assert.Equal(3, rates.Length);
        Assert.Equal(1e-3, rates[0], 15);
        Assert.Equal(1e-2, rates[1], 15);
        Assert.Equal(1e-1, rates[2], 15);
        Assert.Throws<ArgumentException>(() => HyperparameterSearch.Grid([Hyperparameter.Choice("a", 1), Hyperparameter.Choice("a", 2)], Build, train, validation));
        Assert.Throws<KeyNotFoundException>(() => result.Best.Trial["momentum"]);
    }

    [Fact]
    public void CrossValidation_ScoresEveryFold()
    {
        var cv = CrossValidation.Run(fold => new Trainer<double>(new LinearScore<double>(2, 3, seed: fold), SoftmaxCrossEntropyLoss.Instance, null,
            new Sgd(0.1), new TrainerOptions { Epochs = 5, BatchSize = 16, Seed = fold }), Data, k: 3, seed: 2);
        Assert.Equal(3, cv.Accuracies.Count);
        Assert.Equal(cv.Accuracies.Average(), cv.MeanAccuracy, 15);
        double mean = cv.Accuracies.Average();
        Assert.Equal(Math.Sqrt(cv.Accuracies.Sum(a => (a - mean) * (a - mean)) / 2), cv.AccuracyStandardDeviation, 15);
        Assert.True(cv.MeanAccuracy > 0.8, cv.ToString());
    }
}
