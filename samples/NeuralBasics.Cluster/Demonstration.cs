using System.Diagnostics;
using System.Net.Sockets;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Models;
using NeuralBasics.Optimizers;
using NeuralBasics.Orleans;
using NeuralBasics.Training.Distributed;
using NeuralBasics.Training;
using Orleans.Configuration;
using ScottPlot;

namespace NeuralBasics.Cluster;

/// <summary>
/// The one-command demonstration: the three modes as threads of this process, then the same three
/// on a two-silo cluster with two worker processes, each worker holding half of the training set;
/// a table of samples/s (rows trained per second of the slowest worker's own clock), tensor bytes
/// exchanged per gradient step, test accuracy and wall-clock (processes: from starting them to their
/// end, so including their start-up), and a plot of test accuracy after each epoch of worker 0
/// against the time since it started.
/// </summary>
internal static class Demonstration
{
    private const int Workers = 2;
    private const int Batch = 128;
    private static readonly string[] Modes = [Runs.Downpour, Runs.Easgd, Runs.Synchronous];

    public static async Task<int> RunAsync(Arguments args)
    {
        if (LocateData(args.Text("data")) is not { } found)
            return 2;
        var (folder, description) = found;
        var (train, test) = FashionMnist.Load<float>(folder);
        int epochs = args.Number("epochs", train.Count >= 60_000 ? 3 : 8);
        string plotPath = args.Text("plot") ?? "cluster-training.png";
        Console.WriteLine($"{description}: {train.Count:N0} training and {test.Count:N0} test images; MLP 784-256-10 (ReLU), float, " +
                          $"Adam {Runs.LearningRate}, batches of {Batch}, {epochs} epochs, {Workers} workers ({Environment.ProcessorCount} cores)");

        var work = Directory.CreateTempSubdirectory("neuralbasics-cluster-");
        try
        {
            var start = new Classifier<float>(new NetworkBuilder<float>(784, seed: 1).Dense(256, new Relu()).Dense(10).Build(),
                SoftmaxCrossEntropyLoss.Instance);
            string modelPath = Path.Combine(work.FullName, "start.safetensors");
            start.Save(modelPath);

            var results = new List<ModeResult>();
            Console.WriteLine();
            Console.WriteLine("The three modes as threads of this process ...");
            foreach (string mode in Modes)
                results.Add(InProcess(mode, start, train, test, epochs));

            Console.WriteLine($"The three modes on a 2-silo Orleans cluster with {Workers} worker processes, all on 127.0.0.1 ...");
            results.AddRange(await OnClusterAsync(start, modelPath, folder, train.Count, test, epochs, work.FullName));

            Console.WriteLine();
            Console.WriteLine("| mode | where | samples/s | tensor bytes per step | messages | test accuracy | wall-clock |");
            Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
            foreach (var r in results)
                Console.WriteLine($"| {r.Mode} | {r.Where} | {r.SamplesPerSecond:N0} | {r.BytesPerStep / 1024:N0} KB | {r.Messages:N0} | {r.Accuracy:P2} | {r.Seconds:F1} s |");
            Plot(results, description, plotPath);
            Console.WriteLine($"wrote {plotPath}");
            return results.Any(r => r.Failed) ? 1 : 0;
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    internal static (string Folder, string Description)? LocateData(string? folder)
    {
        if (FashionMnist.IsAvailable(folder))
            return (folder ?? FashionMnist.DefaultFolder, "Fashion-MNIST");
        if (folder is not null)
        {
            Console.Error.WriteLine($"Fashion-MNIST is not in {folder}: it needs the four IDX files, raw or gzip.");
            return null;
        }
        // The committed subset, found from wherever the program was built.
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string subset = Path.Combine(directory.FullName, "tests", "NeuralBasics.Tests", "TestData", "fashion-mnist-subset");
            if (FashionMnist.IsAvailable(subset))
            {
                Console.WriteLine($"Fashion-MNIST is not installed in {FashionMnist.DefaultFolder} (sudo apt-get install dataset-fashion-mnist); " +
                                  "using the 3,000 + 1,000 images committed with the tests.");
                return (subset, "Fashion-MNIST subset");
            }
        }
        Console.Error.WriteLine($"Fashion-MNIST is not in {FashionMnist.DefaultFolder}: sudo apt-get install dataset-fashion-mnist, or pass --data FOLDER.");
        return null;
    }

    private static TrainingSetup<float> Setup(Classifier<float> start) =>
        new(start.CopyScoreFunction(), start.Loss, null, new Adam(Runs.LearningRate));

    private static int[] Half(int count, int worker) =>
        Enumerable.Range(worker * count / Workers, (worker + 1) * count / Workers - worker * count / Workers).ToArray();

    private static ModeResult InProcess(string mode, Classifier<float> start, DataSet<float> train, DataSet<float> test, int epochs)
    {
        var watch = Stopwatch.StartNew();
        IReadOnlyList<WorkerReport> reports;
        Classifier<float> model;
        switch (mode)
        {
            case Runs.Downpour:
                var downpour = new DownpourTrainer<float>(Setup(start), Runs.DownpourOptions(epochs, Batch) with { Workers = Workers }).Train(train);
                (reports, model) = (downpour.Reports, downpour.Model);
                break;
            case Runs.Easgd:
                var easgd = new ElasticAveragingTrainer<float>(Setup(start), Runs.EasgdOptions(epochs, Batch) with { Workers = Workers }).Train(train);
                (reports, model) = (easgd.Reports, easgd.Model);
                break;
            default:
                // The same SynchronousWorker the processes run, on threads, each on its half.
                var allReduce = new InProcessAllReduce<float>(Workers);
                var setups = Enumerable.Range(0, Workers).Select(_ => Setup(start)).ToArray();
                var runs = Enumerable.Range(0, Workers).Select(k => Task.Run(() =>
                    new SynchronousWorker<float>(setups[k], allReduce, k, Runs.SynchronousOptions(epochs, Batch)).RunAsync(train, Half(train.Count, k))));
                reports = Task.WhenAll(runs).GetAwaiter().GetResult();
                model = new Classifier<float>(setups[0].Score, start.Loss);
                break;
        }
        double seconds = watch.Elapsed.TotalSeconds;
        return ModeResult.From(mode, "threads", reports, seconds, model.Accuracy(test), []);
    }

    private static async Task<IReadOnlyList<ModeResult>> OnClusterAsync(Classifier<float> start, string modelPath, string folder, int trainCount,
        DataSet<float> test, int epochs, string work)
    {
        int[] ports = FreePorts(4);
        string gateways = $"127.0.0.1:{ports[1]},127.0.0.1:{ports[3]}";
        await using var primary = ClusterProcess.Start("silo 1", "silo", "--port", $"{ports[0]}", "--gateway", $"{ports[1]}");
        await primary.WaitForLineAsync("ready", TimeSpan.FromSeconds(60));
        await using var secondary = ClusterProcess.Start("silo 2", "silo", "--port", $"{ports[2]}", "--gateway", $"{ports[3]}", "--primary", $"{ports[0]}");
        await secondary.WaitForLineAsync("ready", TimeSpan.FromSeconds(60));

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.UseStaticClustering(new IPEndPoint(IPAddress.Loopback, ports[1]), new IPEndPoint(IPAddress.Loopback, ports[3]));
            client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (Runs.ClusterId, Runs.ServiceId));
        });
        using var host = builder.Build();
        await host.StartAsync();
        var grains = host.Services.GetRequiredService<IClusterClient>();

        var results = new List<ModeResult>();
        foreach (string mode in Modes)
        {
            string snapshots = Directory.CreateDirectory(Path.Combine(work, mode)).FullName;
            var server = new OrleansParameterServer<float>(grains, mode);
            var center = new OrleansCenterVariable<float>(grains, mode);
            var curve = new List<(double Seconds, Classifier<float> Model)>();
            long reads = 0;

            // The shared model as it stands when worker 0 finishes an epoch: the server's parameters,
            // the center variable, or (synchronous) worker 0's replica, which every replica equals.
            async Task<Classifier<float>> Current(int epoch)
            {
                var score = start.CopyScoreFunction();
                Memory<float>[] destination = [.. score.Parameters.Select(p => p.Value.Memory)];
                switch (mode)
                {
                    case Runs.Downpour: await server.FetchAsync(new MessageStamp(1000, ++reads), destination); break;
                    case Runs.Easgd: await center.ReadAsync(destination); break;
                    default: return Classifier<float>.Load(Path.Combine(snapshots, $"worker-0-epoch-{epoch}.safetensors"));
                }
                return new Classifier<float>(score, start.Loss);
            }

            var watch = Stopwatch.StartNew();
            var processes = Enumerable.Range(0, Workers).Select(k =>
            {
                int[] rows = Half(trainCount, k);
                return ClusterProcess.Start($"worker {k}", "worker", "--gateways", gateways, "--mode", mode, "--run", mode,
                    "--id", $"{k}", "--workers", $"{Workers}", "--model", modelPath, "--data", folder, "--rows", $"{rows[0]}:{rows.Length}",
                    "--epochs", $"{epochs}", "--batch", $"{Batch}", "--deadline", "1800", "--snapshots", snapshots);
            }).ToArray();
            try
            {
                var outcomes = await Task.WhenAll(processes.Select((p, k) => WorkerWatch.FollowAsync(p, k,
                    k == 0 ? async report => curve.Add((report.Elapsed.TotalSeconds, await Current(report.Epoch))) : null, CancellationToken.None)));
                double seconds = watch.Elapsed.TotalSeconds;
                foreach (var failed in outcomes.Where(o => o.Report is null))
                    Console.Error.WriteLine($"{mode}: worker {failed.Worker} did not finish: {failed.Message}");
                var model = outcomes.All(o => o.Report is not null) ? await Current(epochs) : null;
                results.Add(ModeResult.From(mode, "processes", [.. outcomes.Select(o => o.Report).OfType<WorkerReport>()], seconds,
                    model?.Accuracy(test) ?? double.NaN, [.. curve.Select(c => (c.Seconds, c.Model.Accuracy(test)))]) with { Failed = model is null });
            }
            finally
            {
                foreach (var process in processes)
                    await process.DisposeAsync();
            }
        }
        await host.StopAsync();
        return results;
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
        foreach (var listener in listeners)
            listener.Start();
        int[] ports = [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        foreach (var listener in listeners)
            listener.Stop();
        return ports;
    }

    private static void Plot(IReadOnlyList<ModeResult> results, string description, string path)
    {
        var plot = new Plot();
        foreach (var r in results.Where(r => r.Curve.Count > 0))
        {
            var line = plot.Add.ScatterLine(r.Curve.Select(c => c.Seconds).ToArray(), r.Curve.Select(c => 100 * c.Accuracy).ToArray());
            line.LegendText = $"{r.Mode}, {Workers} processes";
            line.LineWidth = 2;
            line.MarkerSize = 6;
        }
        foreach (var r in results.Where(r => r.Where == "threads"))
        {
            var marker = plot.Add.Marker(r.Seconds, 100 * r.Accuracy, MarkerShape.FilledDiamond, 10);
            marker.LegendText = $"{r.Mode}, {Workers} threads (end of run)";
        }
        plot.Title($"{description}, MLP 784-256-10: test accuracy against wall-clock time, {Environment.ProcessorCount} cores");
        plot.XLabel("seconds since the workers started");
        plot.YLabel("test accuracy, %");
        // Every point after the first epoch, and the ends of the threaded runs, on a scale that separates them.
        double low = results.SelectMany(r => r.Curve.Select(c => c.Accuracy).Append(r.Accuracy)).Where(double.IsFinite).DefaultIfEmpty(0.5).Min();
        plot.Axes.SetLimitsY(Math.Floor(100 * low) - 2, 100 * results.Max(r => double.IsFinite(r.Accuracy) ? r.Accuracy : 0) + 2);
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, 900, 600);
    }
}

/// <summary>One mode's figures.</summary>
internal sealed record ModeResult(string Mode, string Where, double SamplesPerSecond, double BytesPerStep, long Messages, double Accuracy,
    double Seconds, IReadOnlyList<(double Seconds, double Accuracy)> Curve)
{
    public bool Failed { get; init; }

    public static ModeResult From(string mode, string where, IReadOnlyList<WorkerReport> reports, double seconds, double accuracy,
        IReadOnlyList<(double Seconds, double Accuracy)> curve)
    {
        double busiest = reports.Count > 0 ? reports.Max(r => r.Elapsed.TotalSeconds) : seconds;
        long steps = reports.Sum(r => r.Steps);
        return new ModeResult(mode, where, reports.Sum(r => r.Samples) / Math.Max(busiest, 1e-9),
            steps > 0 ? (double)reports.Sum(r => r.BytesSent + r.BytesReceived) / steps : 0, reports.Sum(r => r.Messages), accuracy, seconds, curve);
    }
}
