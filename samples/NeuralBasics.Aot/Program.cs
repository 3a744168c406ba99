using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NeuralBasics.Activations;
using NeuralBasics.Csv;
using NeuralBasics.Data;
using NeuralBasics.Kernels;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Models;
using NeuralBasics.Onnx;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Training;

// Everything a shipped tool does, runnable with Native AOT (PublishAot) and on the JIT, printing
// what it computed as hashes so the two builds can be compared: read a CSV, train with a
// checkpoint, resume, save, load, predict, export to ONNX. Usage: NeuralBasics.Aot [folder]
string folder = args.Length > 0 ? args[0] : Directory.CreateTempSubdirectory("neuralbasics-aot-").FullName;
Directory.CreateDirectory(folder);
Console.WriteLine($"process {Path.GetFileNameWithoutExtension(Environment.ProcessPath)}, {RuntimeInformation.ProcessArchitecture}, " +
    $"vectors {(Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 128)} bits, kernel {ProcessorInfo.Describe()}");

var spiral = SyntheticData.Spiral<float>(pointsPerClass: 60, classCount: 3, seed: 3);
string csv = string.Join('\n', Enumerable.Range(0, spiral.Count).Select(i => $"{spiral.Labels[i]},{spiral.Features[i, 0]:R},{spiral.Features[i, 1]:R}"));
var data = CsvDataSet.Parse<float>("label,x,y\n" + csv + "\n");

string checkpoint = Path.Combine(folder, "run.safetensors");
NeuralBasics.Layers.Sequential<float> Net() => new NetworkBuilder<float>(2, seed: 5).Dense(24, new Relu()).Dense(12, new Tanh()).Dense(3).Build();
var options = new TrainerOptions { Epochs = 3, BatchSize = 32, Seed = 17, CheckpointPath = checkpoint };
var rule = new UpdateChain([new ClipByGlobalNorm(5)], new Adam(new CosineAnnealing(0.01, 60, 1e-4)));
new Trainer<float>(Net(), SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-4), rule, options).Train(data);
var net = Net();
var result = new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-4), rule, options with { Epochs = 6 }).Resume(checkpoint, data);
Console.WriteLine($"trained {result.History.Epochs.Count} epochs, weights {Hash(net.Parameters.SelectMany(p => p.Value.Span.ToArray()).ToArray())}");

string path = Path.Combine(folder, "model.safetensors");
result.Model.WithPreprocessing(null, ["a", "b", "c"]).Save(path);
var loaded = Classifier<float>.Load(path);
int[] predicted = loaded.Predict(data.Features);
Console.WriteLine($"loaded {loaded}, accuracy {loaded.Accuracy(data):F4}, predictions {Hash(predicted)}, first {loaded.ClassNames![predicted[0]]}");
var one = new float[3];
loaded.Scores(data.Features.AsReadOnlySpan().Row(0), one);
Console.WriteLine($"one row {string.Join(' ', one.Select(v => v.ToString("R")))}");

using var onnx = new MemoryStream();
OnnxExport.Save(loaded, onnx);
Console.WriteLine($"onnx {onnx.Length} bytes, {Hash(onnx.ToArray())}");

// Speed, for comparing the builds by hand (not compared by the test): a 512³ product, best of 20.
var a = new NeuralBasics.Matrix<float>(512, 512);
var b = new NeuralBasics.Matrix<float>(512, 512);
var c = new NeuralBasics.Matrix<float>(512, 512);
a.Span.Fill(0.5f);
b.Span.Fill(0.25f);
double best = double.MaxValue;
for (int i = 0; i < 20; i++)
{
    long start = System.Diagnostics.Stopwatch.GetTimestamp();
    Gemm.Multiply(a, b, c);
    best = Math.Min(best, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds);
}
Console.WriteLine($"time: gemm 512³ {2.0 * 512 * 512 * 512 / best / 1e9:F1} GFLOP/s");

// And a training epoch of the MLP 784-256-10 on 16,384 synthetic rows, batch 128: the median of epochs 2-5.
var wide = SyntheticData.Blobs<float>(pointsPerClass: 1638, classCount: 10, featureCount: 784, seed: 4);
var epochs = new Trainer<float>(new NetworkBuilder<float>(784, seed: 1).Dense(256, new Relu()).Dense(10).Build(), SoftmaxCrossEntropyLoss.Instance,
    null, new Adam(1e-3), new TrainerOptions { Epochs = 5, BatchSize = 128, Seed = 1 }).Train(wide).History.Epochs;
Console.WriteLine($"time: MLP epoch {epochs.Skip(1).Select(e => e.Duration.TotalMilliseconds).Order().ElementAt(2):F1} ms (first {epochs[0].Duration.TotalMilliseconds:F1} ms)");


static string Hash<T>(T[] values)
    where T : unmanaged => Convert.ToHexStringLower(XxHash128.Hash(MemoryMarshal.AsBytes(values.AsSpan())));
