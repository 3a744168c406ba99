using System.Diagnostics;
using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Kernels;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Models;
using NeuralBasics.Optimizers;
using NeuralBasics.Training.Distributed;
using NeuralBasics.Training;
using NeuralBasics;
using ScottPlot;

// Data-parallel training side by side on Fashion-MNIST (MLP 784-256-10, float, batch 128): one
// worker (its products split across the cores), synchronous with 2 workers, Downpour with 2 and
// EASGD with 2. Each mode trains 1..E epochs from the same start; the table gives samples per
// second and test accuracy, and a plot shows test accuracy against wall-clock training time.
// Usage: dotnet run -c Release --project samples/NeuralBasics.DataParallel [data folder] [max epochs] [output png]
string folder = args.Length > 0 ? args[0] : FashionMnist.DefaultFolder;
int maxEpochs = args.Length > 1 ? int.Parse(args[1]) : 4;
string output = args.Length > 2 ? args[2] : "data-parallel.png";
if (!FashionMnist.IsAvailable(folder))
{
    Console.Error.WriteLine($"Fashion-MNIST is not in {folder}: sudo apt-get install dataset-fashion-mnist, or pass the folder.");
    return 2;
}
var (train, test) = FashionMnist.Load<float>(folder);
IScoreFunction<float> Network() => new NetworkBuilder<float>(784, seed: 1).Dense(256, new Relu()).Dense(10).Build();

// The synchronous modes run the Trainer's own per-batch work (gather, step) without its per-epoch
// evaluation, so all four are timed on training alone.
Classifier<float> Synchronous(int epochs, int workers)
{
    var net = Network();
    var step = new TrainingStep<float>(net, SoftmaxCrossEntropyLoss.Instance, null, new Adam(1e-3), workers);
    var order = Enumerable.Range(0, train.Count).ToArray();
    var random = new Random(1);
    var batchX = new NeuralBasics.Matrix<float>(128, 784);
    var batchY = new int[128];
    for (int epoch = 0; epoch < epochs; epoch++)
    {
        random.Shuffle(order);
        for (int s = 0; s < train.Count; s += 128)
        {
            int size = Math.Min(128, train.Count - s);
            var rows = order.AsSpan(s, size);
            RowOps.GatherRows(train.Features.AsReadOnlySpan(), rows, batchX.AsSpan().SliceRows(0, size));
            for (int r = 0; r < size; r++)
                batchY[r] = train.Labels[rows[r]];
            step.Run(batchX.AsReadOnlySpan().SliceRows(0, size), batchY.AsSpan(0, size));
        }
    }
    return new Classifier<float>(net, SoftmaxCrossEntropyLoss.Instance);
}

Synchronous(1, 1); // warm the JIT so the first row is not charged for it

var modes = new (string Name, Func<int, Classifier<float>> Train)[]
{
    ("1 worker", epochs => Synchronous(epochs, 1)),
    ("synchronous, 2 workers", epochs => Synchronous(epochs, 2)),
    ("Downpour, 2 workers", epochs => new DownpourTrainer<float>(Network(), SoftmaxCrossEntropyLoss.Instance, null, new Adam(1e-3),
        new DownpourOptions { Workers = 2, Epochs = epochs, BatchSize = 128, FetchEvery = 2, PushEvery = 1, Seed = 1 }).Train(train).Model),
    ("EASGD, 2 workers", epochs => new ElasticAveragingTrainer<float>(Network(), SoftmaxCrossEntropyLoss.Instance, null, new Adam(1e-3),
        new ElasticAveragingOptions { Workers = 2, Epochs = epochs, BatchSize = 128, Tau = 4, Alpha = 0.3, Seed = 1 }).Train(train).Model),
};

var plot = new Plot();
Console.WriteLine($"| mode | epochs | training time | samples/s | test accuracy |");
Console.WriteLine($"|---|---:|---:|---:|---:|");
foreach (var (name, trainFor) in modes)
{
    // The curve starts at the first trained point: no made-up point at time 0.
    var times = new List<double>();
    var accuracies = new List<double>();
    for (int epochs = 1; epochs <= maxEpochs; epochs++)
    {
        var watch = Stopwatch.StartNew();
        var model = trainFor(epochs);
        double seconds = watch.Elapsed.TotalSeconds;
        double accuracy = model.Accuracy(test);
        times.Add(seconds);
        accuracies.Add(accuracy);
        Console.WriteLine($"| {name} | {epochs} | {seconds:F2} s | {epochs * (double)train.Count / seconds:N0} | {accuracy:P2} |");
    }
    var line = plot.Add.ScatterLine(times.ToArray(), accuracies.Select(a => 100 * a).ToArray());
    line.LegendText = name;
    line.LineWidth = 2;
    line.MarkerSize = 6;
}
plot.Title("Fashion-MNIST, MLP 784-256-10: test accuracy against training time (2 cores)");
plot.XLabel("wall-clock seconds of training (each point: a run of 1, 2, … epochs from the start)");
plot.YLabel("test accuracy, %");
plot.Axes.SetLimitsY(80, 90);
plot.ShowLegend(Alignment.LowerRight);
plot.SavePng(output, 900, 600);
Console.WriteLine($"wrote {output}");
return 0;
