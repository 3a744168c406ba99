using System.Diagnostics;
using Microsoft.ML.Data;
using Microsoft.ML;
using NeuralBasics.Activations;
using NeuralBasics.Benchmarks.Peers;
using NeuralBasics.Data;
using NeuralBasics.Kernels;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Models;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Scoring;
using NeuralBasics.Training;
using NeuralBasics;
using TorchSharp;
using static TorchSharp.torch;

// NeuralBasics against TorchSharp-cpu and ML.NET, the same work in one process and one run, float32.
// Usage: dotnet run -c Release --project benchmarks/NeuralBasics.Benchmarks.Peers [fashion-mnist folder] [threads] [cnn]
// ("cnn": only the convolutional network's step and epoch.)
string folder = args.Length > 0 ? args[0] : FashionMnist.DefaultFolder;
int threads = args.Length > 1 ? int.Parse(args[1]) : Environment.ProcessorCount;
bool cnnOnly = args.Length > 2 && args[2] == "cnn";
if (!FashionMnist.IsAvailable(folder))
{
    Console.Error.WriteLine($"Fashion-MNIST is not in {folder}: sudo apt-get install dataset-fashion-mnist, or pass the folder.");
    return 2;
}
ElfVersionPatch.PrepareTorchSharp();
torch.set_num_threads(threads);
Gemm.DefaultMaxDegreeOfParallelism = threads;
Console.WriteLine($"{ProcessorInfo.Describe()}");
Console.WriteLine($"threads: {threads}; TorchSharp {torch.__version__}; ML.NET {typeof(MLContext).Assembly.GetName().Version}; {DateTime.UtcNow:yyyy-MM-dd}");
if (OpenBlas.IsAvailable)
{
    OpenBlas.SetThreads(threads);
    Console.WriteLine(OpenBlas.Describe());
}
else
{
    Console.WriteLine("OpenBLAS: not found (apt-get install libopenblas0-pthread to compare the GEMM with it too)");
}

var rows = new List<(string What, double Ours, double Theirs, string Unit, string Peer)>();
// ---- GEMM at the training shapes (and two squares): three rounds over all shapes, each library
// in turn, and the median of the rounds, so a disturbance in one moment does not decide a row ----
var gemmShapes = new[]
{
    ("[128x784]·[784x256]", 128, 784, 256, false), ("[128x256]·[256x10]", 128, 256, 10, false),
    ("[784x128]ᵀ·[128x256]", 784, 128, 256, true), ("512x512x512", 512, 512, 512, false), ("1024x1024x1024", 1024, 1024, 1024, false),
};
var oursRounds = gemmShapes.Select(_ => new List<double>()).ToArray();
var theirsRounds = gemmShapes.Select(_ => new List<double>()).ToArray();
var blasRounds = gemmShapes.Select(_ => new List<double>()).ToArray();
for (int round = 0; round < (cnnOnly ? 0 : 3); round++)
{
    for (int s = 0; s < gemmShapes.Length; s++)
    {
        var (name, m, k, n, transA) = gemmShapes[s];
        var a = Random(transA ? k : m, transA ? m : k, 1);
        var b = Random(k, n, 2);
        var c = new Matrix<float>(m, n);
        double flops = 2.0 * m * n * k;
        oursRounds[s].Add(MedianSeconds(() =>
        {
            if (transA) Gemm.MultiplyTransposeA(a, b, c); else Gemm.Multiply(a, b, c);
        }, flops));
        var ta = torch.tensor(a.Span.ToArray(), [a.Rows, a.Columns]);
        var tb = torch.tensor(b.Span.ToArray(), [b.Rows, b.Columns]);
        theirsRounds[s].Add(MedianSeconds(() =>
        {
            using var scope = torch.NewDisposeScope();
            var result = transA ? ta.t().matmul(tb) : ta.matmul(tb);
        }, flops));
        if (OpenBlas.IsAvailable)
            blasRounds[s].Add(MedianSeconds(() => OpenBlas.Multiply(a, transA, b, c), flops));
    }
}
for (int s = 0; s < (cnnOnly ? 0 : gemmShapes.Length); s++)
{
    var (name, m, k, n, _) = gemmShapes[s];
    double flops = 2.0 * m * n * k;
    rows.Add(($"GEMM {name}, GFLOP/s", flops / Median(oursRounds[s]) / 1e9, flops / Median(theirsRounds[s]) / 1e9, "GFLOP/s", "TorchSharp"));
    if (OpenBlas.IsAvailable)
        rows.Add(($"GEMM {name}, GFLOP/s", flops / Median(oursRounds[s]) / 1e9, flops / Median(blasRounds[s]) / 1e9, "GFLOP/s", "OpenBLAS"));
}

// ---- Fashion-MNIST: one step and one epoch, MLP, softmax regression and a small CNN, Adam, batch 128 ----
var (train, test) = FashionMnist.Load<float>(folder);
const int batch = 128;
var order = Enumerable.Range(0, train.Count).ToArray();
new Random(7).Shuffle(order);
var xTrain = torch.tensor(train.Features.Span.ToArray(), [train.Count, 784]);
var yTrain = torch.tensor(train.Labels.ToArray().Select(l => (long)l).ToArray(), [train.Count]);
var torchOrder = torch.tensor(order.Select(i => (long)i).ToArray());

// The CNN: conv 3x3 (32, padding 1) → ReLU → pool 2 → conv 3x3 (64, padding 1) → ReLU → pool 2 → dense 128 → ReLU → 10.
var peerModels = new (string Name, int Hidden)[] { ("MLP 784-256-10", 256), ("softmax 784-10", 0), ("CNN 32c3-p2-64c3-p2-128-10", -1) };
foreach (var (modelName, hidden) in cnnOnly ? peerModels[2..] : peerModels)
{
    bool cnn = hidden < 0;
    IScoreFunction<float> ours = cnn
        ? new NetworkBuilder<float>(new ImageShape(1, 28, 28), seed: 1).Conv2D(32, 3, padding: 1, new Relu()).MaxPool2D(2)
            .Conv2D(64, 3, padding: 1, new Relu()).MaxPool2D(2).Flatten().Dense(128, new Relu()).Dense(10).Build()
        : hidden > 0
        ? new NetworkBuilder<float>(784, seed: 1).Dense(hidden, new Relu()).Dense(10).Build()
        : new NetworkBuilder<float>(784, seed: 1).Dense(10).Build();
    var theirs = cnn
        ? nn.Sequential(("0", nn.Conv2d(1, 32, 3, padding: 1)), ("1", nn.ReLU()), ("2", nn.MaxPool2d(2)),
            ("3", nn.Conv2d(32, 64, 3, padding: 1)), ("4", nn.ReLU()), ("5", nn.MaxPool2d(2)), ("6", nn.Flatten()),
            ("7", nn.Linear(3136, 128)), ("8", nn.ReLU()), ("9", nn.Linear(128, 10)))
        : hidden > 0
        ? nn.Sequential(("0", nn.Linear(784, hidden)), ("1", nn.ReLU()), ("2", nn.Linear(hidden, 10)))
        : nn.Sequential(("0", nn.Linear(784, 10)));
    CopyWeights(ours, theirs);
    {
        // The same start: both networks score the first rows alike.
        var ourScores = new Matrix<float>(8, 10);
        ours.Forward(train.Features.AsReadOnlySpan().SliceRows(0, 8), ourScores);
        using var first = xTrain.narrow(0, 0, 8);
        using var theirScores = theirs.forward(cnn ? first.view(8, 1, 28, 28) : first);
        float[] reference = theirScores.data<float>().ToArray();
        double gap = ourScores.Span.ToArray().Zip(reference, (a, b) => Math.Abs(a - b)).Max();
        Console.WriteLine($"{modelName}: the same initial weights, scores of 8 rows within {gap:E1}");
        if (gap > 1e-3)
            throw new InvalidOperationException($"{modelName}: the two networks do not start alike (scores differ by {gap}).");
    }

    var step = new TrainingStep<float>(ours, SoftmaxCrossEntropyLoss.Instance, null, new Adam(1e-3));
    var optimizer = torch.optim.Adam(theirs.parameters(), lr: 1e-3);
    var lossFunction = nn.CrossEntropyLoss();
    var batchX = new Matrix<float>(batch, 784);
    var batchY = new int[batch];

    void OurBatch(int start)
    {
        // What the Trainer does per batch: gather the shuffled rows, then one step.
        int size = Math.Min(batch, train.Count - start);
        var rows = order.AsSpan(start, size);
        RowOps.GatherRows(train.Features.AsReadOnlySpan(), rows, batchX.AsSpan().SliceRows(0, size));
        for (int r = 0; r < size; r++)
            batchY[r] = train.Labels[rows[r]];
        step.Run(batchX.AsReadOnlySpan().SliceRows(0, size), batchY.AsSpan(0, size));
    }

    void TheirBatch(int start)
    {
        using var scope = torch.NewDisposeScope();
        int size = Math.Min(batch, train.Count - start);
        var index = torchOrder.narrow(0, start, size);
        var x = xTrain.index_select(0, index);
        if (cnn)
            x = x.view(size, 1, 28, 28);
        var y = yTrain.index_select(0, index);
        optimizer.zero_grad();
        var loss = lossFunction.forward(theirs.forward(x), y);
        loss.backward();
        optimizer.step();
    }

    // Steps and epochs in alternating rounds, ours then theirs, and the median of each side's
    // rounds: this shared machine's speed drifts by a fifth within minutes, and one side timed in a
    // slow minute would decide the ratio.
    var ourSteps = new List<double>();
    var theirSteps = new List<double>();
    for (int round = 0; round < 3; round++)
    {
        ourSteps.Add(MedianSeconds(() => OurBatch(0), 0));
        theirSteps.Add(MedianSeconds(() => TheirBatch(0), 0));
    }
    rows.Add(($"{modelName}: one training step (batch 128), ms", Median(ourSteps) * 1e3, Median(theirSteps) * 1e3, "ms", "TorchSharp"));

    var ourEpochs = new List<double>();
    var theirEpochs = new List<double>();
    for (int round = 0; round < 5; round++)
    {
        ourEpochs.Add(OnceSeconds(() => { for (int s = 0; s < train.Count; s += batch) OurBatch(s); }));
        theirEpochs.Add(OnceSeconds(() => { for (int s = 0; s < train.Count; s += batch) TheirBatch(s); }));
    }
    Console.WriteLine($"{modelName} epochs, s: ours {string.Join(" ", ourEpochs.Select(e => e.ToString("F3")))}; TorchSharp {string.Join(" ", theirEpochs.Select(e => e.ToString("F3")))}");
    rows.Add(($"{modelName}: one epoch of 60,000 (median of 5 alternating), s", Median(ourEpochs), Median(theirEpochs), "s", "TorchSharp"));
}

if (cnnOnly)
    peerModels = [];
// ---- Trainer.Train as a user runs it: 10 epochs with the test set for validation. Per epoch: the
// training time (EpochResult.Duration), the wall-clock between epochs (training + validation +
// bookkeeping), and whether later epochs slow down (subnormal optimizer state did that) ----
foreach (var (modelName, hidden) in peerModels.Where(m => m.Hidden >= 0))
{
    var net = hidden > 0
        ? new NetworkBuilder<float>(784, seed: 1).Dense(hidden, new Relu()).Dense(10).Build()
        : new NetworkBuilder<float>(784, seed: 1).Dense(10).Build();
    var trainer = new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, null, new Adam(1e-3),
        new TrainerOptions { Epochs = 10, BatchSize = batch, Seed = 1 });
    var training = new List<double>();
    var wall = new List<double>();
    long last = Stopwatch.GetTimestamp();
    Thread.Sleep(500);
    last = Stopwatch.GetTimestamp();
    trainer.Train(train, test, new Reporter(e =>
    {
        wall.Add(Stopwatch.GetElapsedTime(last).TotalSeconds);
        last = Stopwatch.GetTimestamp();
        training.Add(e.Duration.TotalSeconds);
        Console.WriteLine($"{modelName} Train: epoch {e.Epoch,2}: training {e.Duration.TotalSeconds:F3} s, wall {wall[^1]:F3} s, val acc {e.ValidationAccuracy:P2}");
    }));
    var later = Enumerable.Range(1, 9).Select(i => wall[i] / training[i]).Order().ToList();
    rows.Add(($"{modelName}: Train wall-clock per epoch / its training time (median of epochs 2-10)", later[4], 1.1, "x", "target"));
    // Later epochs against early ones, as medians of three: one epoch timed in one of this shared
    // machine's slow phases (tens of seconds at up to half speed) used to decide the row alone.
    double early = Median(training.GetRange(1, 3)), late = Median(training.GetRange(7, 3));
    rows.Add(($"{modelName}: Train, epochs 8-10 / epochs 2-4 training time (medians)", late / early, 1.0, "x", "target"));
}

// ---- Softmax regression to 84% test accuracy: ours (Adam, epochs until 84%) against ML.NET ----
if (!cnnOnly)
{
    var score = new LinearScore<float>(784, 10, seed: 1);
    var rule = new Adam(new CosineAnnealing(3e-3, 10 * ((train.Count + batch - 1) / batch), 1e-5));
    var step = new TrainingStep<float>(score, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-5), rule);
    var model = new Classifier<float>(score, SoftmaxCrossEntropyLoss.Instance);
    var batchX = new Matrix<float>(batch, 784);
    var batchY = new int[batch];
    var shuffle = new Random(42);
    var ord = Enumerable.Range(0, train.Count).ToArray();
    double trainingSeconds = 0, accuracy = 0;
    int epochs = 0;
    while (accuracy < 0.84 && epochs < 10)
    {
        var watch = Stopwatch.StartNew();
        shuffle.Shuffle(ord);
        for (int s = 0; s < train.Count; s += batch)
        {
            int size = Math.Min(batch, train.Count - s);
            for (int r = 0; r < size; r++)
            {
                train.Features.Row(ord[s + r]).CopyTo(batchX.Row(r));
                batchY[r] = train.Labels[ord[s + r]];
            }
            step.Run(batchX.AsReadOnlySpan().SliceRows(0, size), batchY.AsSpan(0, size));
        }
        trainingSeconds += watch.Elapsed.TotalSeconds;
        epochs++;
        accuracy = new Classifier<float>(score, SoftmaxCrossEntropyLoss.Instance).Accuracy(test);
    }
    Console.WriteLine($"NeuralBasics softmax regression: {accuracy:P2} test accuracy after {epochs} epochs, {trainingSeconds:F2} s of training");

    var ml = new MLContext(seed: 1);
    var pipelineResults = new Dictionary<string, (double Accuracy, double Seconds)>();
    var trainView = ml.Data.LoadFromEnumerable(ToRows(train));
    var testView = ml.Data.LoadFromEnumerable(ToRows(test));
    foreach (var (trainerName, estimator) in new (string, IEstimator<ITransformer>)[]
    {
        ("ML.NET SDCA", ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy())),
        ("ML.NET L-BFGS", ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy())),
        // ML.NET has no MLP trainer: NeuralBasics.MLNet's, in the same pipeline (MLP 784-256-10, Adam, 10 epochs).
        ("NeuralBasics.MLNet MLP", ml.Transforms.Conversion.MapValueToKey("Label").Append(new NeuralBasics.MLNet.NeuralBasicsTrainer(ml))),
    })
    {
        var watch = Stopwatch.StartNew();
        var fitted = estimator.Fit(trainView);
        double seconds = watch.Elapsed.TotalSeconds;
        var metrics = ml.MulticlassClassification.Evaluate(fitted.Transform(testView));
        Console.WriteLine($"{trainerName}: {metrics.MicroAccuracy:P2} test accuracy, {seconds:F2} s of training");
        pipelineResults[trainerName] = (metrics.MicroAccuracy, seconds);
        if (trainerName.StartsWith("ML.NET", StringComparison.Ordinal))
            rows.Add(($"softmax regression to ≥84%: ours {accuracy:P1} vs {trainerName} {metrics.MicroAccuracy:P1}, s", trainingSeconds, seconds, "s", trainerName));
    }
    var (mlpAccuracy, mlpSeconds) = pipelineResults["NeuralBasics.MLNet MLP"];
    var lbfgs = pipelineResults["ML.NET L-BFGS"];
    rows.Add(($"in one ML.NET pipeline: NeuralBasics.MLNet MLP {mlpAccuracy:P1} vs ML.NET L-BFGS {lbfgs.Accuracy:P1}, s", mlpSeconds, lbfgs.Seconds, "s", "ML.NET L-BFGS"));
}

// ---- L-BFGS on the full-batch objective, mean cross-entropy + λ‖W‖² with λ = 1/120,000 (scikit-learn's
// C = 1 on 60,000 rows): the time to reach the objective scikit-learn's lbfgs stops at after its
// default 100 iterations, 0.391136 (sklearn_lbfgs.py beside this file prints it; 84.39% test accuracy) ----
if (!cnnOnly)
{
    const double sklearnObjective = 0.39113636;
    var lbfgsOptions = new LbfgsOptions { TargetObjective = sklearnObjective };
    // From zero weights, as scikit-learn starts.
    LinearScore<float> Zero() { var s = new LinearScore<float>(784, 10, seed: 1); s.Weights.Value.Span.Clear(); return s; }
    Lbfgs.Minimize(Zero(), SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1.0 / 120000), train, lbfgsOptions with { MaxIterations = 5 }); // warm-up
    var times = new List<(double Seconds, LbfgsResult Result, double Accuracy)>();
    for (int run = 0; run < 3; run++)
    {
        var score = Zero();
        var watch = Stopwatch.StartNew();
        var result = Lbfgs.Minimize(score, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1.0 / 120000), train, lbfgsOptions);
        times.Add((watch.Elapsed.TotalSeconds, result, new Classifier<float>(score, SoftmaxCrossEntropyLoss.Instance).Accuracy(test)));
    }
    var median = times.OrderBy(t => t.Seconds).ElementAt(1);
    Console.WriteLine($"NeuralBasics L-BFGS: objective {median.Result.Objective:F6} after {median.Result.Iterations} iterations " +
                      $"({median.Result.Evaluations} evaluations), {median.Accuracy:P2} test accuracy, {median.Seconds:F3} s (median of 3)");
    rows.Add(($"softmax regression, L-BFGS to scikit-learn's 100-iteration objective {sklearnObjective}, s", median.Seconds, 1.0, "s", "target"));
}

Console.WriteLine();
Console.WriteLine($"| what | NeuralBasics | peer | peer value | ours / theirs |");
Console.WriteLine($"|---|---:|---|---:|---:|");
foreach (var (what, ours, theirs, unit, peer) in rows)
{
    bool higherIsBetter = unit == "GFLOP/s";
    double ratio = higherIsBetter ? theirs / ours : ours / theirs; // time ratio: below 1 means NeuralBasics is faster
    Console.WriteLine(unit == "x"
        ? $"| {what} | {ours:F2}x | {peer} | {theirs:F2}x | |"
        : $"| {what} | {ours:F3} | {peer} | {theirs:F3} | {ratio:F2}x time |");
}
return 0;

static Matrix<float> Random(int rows, int columns, int seed)
{
    var random = new Random(seed);
    var m = new Matrix<float>(rows, columns);
    foreach (ref float v in m.Span)
        v = (float)(random.NextDouble() * 2 - 1);
    return m;
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted[sorted.Count / 2];
}

// The wall time of one run, after the other side's threads have had time to fall asleep (warm-up: the step rounds).
static double OnceSeconds(Action action)
{
    Thread.Sleep(500);
    long start = Stopwatch.GetTimestamp();
    action();
    return Stopwatch.GetElapsedTime(start).TotalSeconds;
}

// The median wall time of `repeats` runs after a second of warm-up runs.
static double MedianSeconds(Action action, double flops, int repeats = 21)
{
    // libtorch's OpenMP threads busy-wait for a while after their last task; let them fall asleep
    // so neither side is measured while the other's threads still hold a core.
    Thread.Sleep(500);
    // Warm up for a second (and at least five calls): .NET runs a method's first calls unoptimized
    // and recompiles it after ~30 calls and a short delay, so a handful of warm-up calls would time
    // the unoptimized code. Either library gets the same.
    long warmStart = Stopwatch.GetTimestamp();
    for (int i = 0; i < 5 || Stopwatch.GetElapsedTime(warmStart).TotalSeconds < 1; i++)
        action();
    int inner = flops > 0 ? Math.Max(1, (int)(2e8 / flops)) : 1;
    var times = new double[repeats];
    for (int r = 0; r < repeats; r++)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < inner; i++)
            action();
        times[r] = Stopwatch.GetElapsedTime(start).TotalSeconds / inner;
    }
    Array.Sort(times);
    return times[repeats / 2];
}

// Gives the TorchSharp model the same initial weights: nn.Linear stores W transposed (out x in);
// nn.Conv2d stores filters x channels x kh x kw where ours are (kh·kw·C) x filters; and PyTorch
// flattens channels first where our rows are channels last, so the first dense layer after the
// convolutions takes its rows in the other order.
static void CopyWeights(IScoreFunction<float> ours, torch.nn.Module theirs)
{
    var layers = ours is Sequential<float> s ? s.Layers : [];
    var dense = layers.OfType<Dense<float>>().ToList();
    var convolutions = layers.OfType<Conv2D<float>>().ToList();
    var linears = theirs.modules().OfType<TorchSharp.Modules.Linear>().ToList();
    var convs = theirs.modules().OfType<TorchSharp.Modules.Conv2d>().ToList();
    using var noGrad = torch.no_grad();
    for (int i = 0; i < convolutions.Count; i++)
    {
        var c = convolutions[i];
        var w = torch.tensor(c.Weights.Value.Span.ToArray(), [c.KernelSize, c.KernelSize, c.InputShape.Channels, c.Filters]);
        convs[i].weight!.copy_(w.permute(3, 2, 0, 1));
        convs[i].bias!.copy_(torch.tensor(c.Biases.Value.Span.ToArray()));
    }
    for (int i = 0; i < dense.Count; i++)
    {
        var w = torch.tensor(dense[i].Weights.Value.Span.ToArray(), [dense[i].Weights.Value.Rows, dense[i].Weights.Value.Columns]);
        if (i == 0 && convolutions.Count > 0)
        {
            // Our rows (y, x, c) → PyTorch's (c, y, x).
            var image = layers.OfType<MaxPool2D<float>>().Last().OutputShape;
            w = w.view(image.Height, image.Width, image.Channels, -1).permute(2, 0, 1, 3).reshape(-1, w.shape[1]);
        }
        linears[i].weight!.copy_(w.t());
        linears[i].bias!.copy_(torch.tensor(dense[i].Biases.Value.Span.ToArray()));
    }
}

static IEnumerable<ImageRow> ToRows(DataSet<float> data)
{
    for (int i = 0; i < data.Count; i++)
        yield return new ImageRow { Label = (uint)data.Labels[i], Features = data.Features.Row(i).ToArray() };
}

internal sealed class Reporter(Action<EpochResult> report) : IProgress<EpochResult>
{
    public void Report(EpochResult value) => report(value);
}

internal sealed class ImageRow
{
    public uint Label { get; set; }

    [VectorType(784)]
    public float[] Features { get; set; } = [];
}
