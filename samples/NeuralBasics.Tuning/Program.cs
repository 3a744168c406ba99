using NeuralBasics;
using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Scoring;
using NeuralBasics.Selection;
using NeuralBasics.Training;

// Tuning on Fashion-MNIST as CS231n advises: learning rate and L2 strength searched on a log scale
// on a validation set, trials in parallel with their own seeds, poor trials stopped early, then
// the best configuration refit on all the training data and scored once on the test set.
// Usage: dotnet run -c Release --project samples/NeuralBasics.Tuning [data folder] [trials]
string folder = args.Length > 0 ? args[0] : FashionMnist.DefaultFolder;
int trials = args.Length > 1 ? int.Parse(args[1]) : 12;
if (!FashionMnist.IsAvailable(folder))
{
    Console.Error.WriteLine($"Fashion-MNIST is not in {folder}: sudo apt-get install dataset-fashion-mnist, or pass the folder.");
    return 2;
}
var (all, test) = FashionMnist.Load<float>(folder);
// Trials see 20,000 training images, 25% of them held out for validation; the refit sees all 60,000.
var (searchSet, _) = DataSplit.Stratified(all, 2.0 / 3, seed: 1);
var (train, validation) = DataSplit.Stratified(searchSet, 0.25, seed: 2);
Console.WriteLine($"search on {train.Count:N0} + {validation.Count:N0} images, {trials} trials per model, {Environment.ProcessorCount} cores");

Hyperparameter[] space = [Hyperparameter.LogUniform("lr", 1e-4, 3e-2), Hyperparameter.LogUniform("lambda", 1e-6, 1e-2)];
var models = new (string Name, Func<int, IScoreFunction<float>> Network, int Epochs)[]
{
    ("softmax regression 784-10", seed => new LinearScore<float>(784, 10, seed: seed), 4),
    ("MLP 784-128-10 (ReLU)", seed => new NetworkBuilder<float>(784, seed: seed).Dense(128, new Relu()).Dense(10).Build(), 3),
};
foreach (var (name, network, epochs) in models)
{
    Trainer<float> Build(Trial trial) => new(network(trial.Seed), SoftmaxCrossEntropyLoss.Instance, new L2Regularization(trial["lambda"]),
        new Adam(trial["lr"]), new TrainerOptions { Epochs = epochs, BatchSize = 128, Seed = trial.Seed });

    var watch = System.Diagnostics.Stopwatch.StartNew();
    var result = HyperparameterSearch.Random(space, Build, train, validation, new SearchOptions { Trials = trials, Seed = 7 });
    Console.WriteLine();
    Console.WriteLine($"{name}: {trials} trials in {watch.Elapsed.TotalSeconds:F1} s, best first");
    Console.Write(result);
    var refit = result.Refit(Build, all);
    Console.WriteLine($"refit of the best ({result.Best.Trial}) on all {all.Count:N0} images: test accuracy {refit.Model.Accuracy(test):P2}");
}
return 0;
