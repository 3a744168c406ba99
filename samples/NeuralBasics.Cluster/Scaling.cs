using System.Diagnostics;
using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Models;

namespace NeuralBasics.Cluster;

/// <summary>
/// The link-bound regime on one computer: <c>scale --machines N --link-mbit R</c> builds N machines
/// in Linux network namespaces with links of R Mbit/s each way (<see cref="EmulatedNetwork"/>), starts
/// a silo and a worker on each, and trains the MLP 784-256-10 with Downpour through one server grain
/// and through N shards (one per silo), EASGD, and synchronous training through the one all-reduce
/// grain and through the workers' ring of mailboxes. For each it prints the samples/s the workers
/// reached, the bytes the busiest link carried per round (every worker one step) as the kernel
/// counted them from the moment every worker was connected and initialized, and what the model of docs/distributed-training.md predicts from the link rate
/// alone: with links this slow the network dominates, so samples/s ≈ N·128 / (busiest link's bytes
/// per round / rate). All processes share the computer's cores, so pick a rate at which the links,
/// not the cores, are the limit (the default 100 Mbit/s is, on two cores).
/// </summary>
internal static class Scaling
{
    private const int Batch = 128;
    private const int Gateway = 30000;
    private const int SiloPort = 11111;

    /// <summary>
    /// One way of training and, in the model, the bytes over the busiest link direction per round and
    /// the bytes its critical path sends one after another (more than the busiest link's when a
    /// round's messages must wait for others: the sum leaves the one grain only once all gradients
    /// are in). Both are functions of the machine count and the model's bytes.
    /// </summary>
    private sealed record Setup(string Label, string Mode, string[] Options, Func<int, double, double> BusiestBytes, Func<int, double, double> PathBytes)
    {
        /// <summary>The run's name: the mode's (whose settings the silos have), or the mode and how it reduces, so mailboxes are not shared between setups.</summary>
        public string Run => Options is ["--reduce", var reduce] && reduce != "grain" ? $"{Mode}-{reduce}" : Mode;
    }

    public static async Task<int> RunAsync(Arguments args)
    {
        if (EmulatedNetwork.Unavailable() is { } reason)
        {
            Console.Error.WriteLine(reason);
            return 2;
        }
        int machines = args.Number("machines", 4);
        int mbit = args.Number("link-mbit", 100);
        int rowsPerWorker = args.Number("rows-per-worker", 2048);
        int epochs = args.Number("epochs", 2);
        if (machines < 2 || mbit < 1 || rowsPerWorker < Batch || epochs < 1)
            throw new ArgumentException("--machines must be at least 2, --link-mbit at least 1, --rows-per-worker at least one batch (128), --epochs at least 1.");
        if (Demonstration.LocateData(args.Text("data")) is not { } found)
            return 2;
        var (folder, description) = found;
        int available = FashionMnist.Load<float>(folder).Train.Count;
        if (machines * rowsPerWorker > available)
            throw new ArgumentException($"{machines} workers x {rowsPerWorker} rows need {machines * rowsPerWorker:N0} training images; {description} has {available:N0}.");

        var work = Directory.CreateTempSubdirectory("neuralbasics-scale-");
        var start = new Classifier<float>(new NetworkBuilder<float>(784, seed: 1).Dense(256, new Relu()).Dense(10).Build(), SoftmaxCrossEntropyLoss.Instance);
        string modelPath = Path.Combine(work.FullName, "start.safetensors");
        start.Save(modelPath);
        double parameterBytes = start.CopyScoreFunction().Parameters.Sum(p => (double)p.Value.Memory.Length) * sizeof(float);

        Console.WriteLine($"{description}, MLP 784-256-10 ({parameterBytes / 1000:N0} KB of parameters), batches of {Batch}, {rowsPerWorker:N0} rows per worker, " +
                          $"{epochs} epochs; {machines} machines in network namespaces, {mbit} Mbit/s links each way; {Environment.ProcessorCount} cores shared by all");
        var silos = new List<ClusterProcess>();
        using var network = EmulatedNetwork.Create(machines, mbit);
        // Whatever ends this process, the namespaces go with it.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => network.Dispose();
        Console.CancelKeyPress += (_, _) => network.Dispose();
        try
        {
            string primary = network.Address(0).ToString();
            ClusterProcess Silo(int i) => ClusterProcess.StartIn(network.Namespace(i), $"silo {i}", "silo", "--address", $"{network.Address(i)}",
                "--primary-address", primary, "--port", $"{SiloPort}", "--primary", $"{SiloPort}", "--gateway", $"{Gateway}");
            silos.Add(Silo(0));
            await silos[0].WaitForLineAsync("ready", TimeSpan.FromSeconds(120));
            silos.AddRange(Enumerable.Range(1, machines - 1).Select(Silo));
            await Task.WhenAll(silos.Skip(1).Select(s => s.WaitForLineAsync("ready", TimeSpan.FromSeconds(180))));

            Setup[] setups =
            [
                new("Downpour, 1 server grain", Runs.Downpour, ["--shards", "1"], (n, p) => DownpourBytes(n, 1, p), (n, p) => DownpourBytes(n, 1, p)),
                new($"Downpour, {machines} shards", Runs.Downpour, ["--shards", $"{machines}"], (n, p) => DownpourBytes(n, n, p), (n, p) => DownpourBytes(n, n, p)),
                new($"Downpour, {machines} shards, overlapped", Runs.Downpour, ["--shards", $"{machines}", "--overlap", "yes"], (n, p) => DownpourBytes(n, n, p), (n, p) => DownpourBytes(n, n, p)),
                new("EASGD, τ = 4", Runs.Easgd, [], EasgdBytes, EasgdBytes),
                // N − 1 gradients into the grain's machine, then N − 1 sums out.
                new("synchronous, 1 all-reduce grain", Runs.Synchronous, ["--reduce", "grain"], (n, p) => (n - 1) * p, (n, p) => 2 * (n - 1) * p),
                // Each link carries a chunk's partial sums and its finished sums; each phase is N chunks through N − 1 hops in a pipeline.
                // (With two workers each sends in one phase only.)
                new("synchronous, ring of mailboxes", Runs.Synchronous, ["--reduce", "ring"], (n, p) => n == 2 ? p : 2 * p, (n, p) => 2.0 * (2 * n - 2) / n * p),
                // N − 1 parts out and in, then N − 1 finished chunks out and in.
                new("synchronous, scatter-gather", Runs.Synchronous, ["--reduce", "scatter"], (n, p) => 2.0 * (n - 1) / n * p, (n, p) => 2.0 * (n - 1) / n * p),
            ];
            var rows = new List<string>();
            var measured = new Dictionary<string, double>();
            var predicted = new Dictionary<string, double>();
            // --only TEXT: the setups whose label holds TEXT.
            string only = args.Text("only") ?? "";
            foreach (var setup in setups.Where(s => s.Label.Contains(only, StringComparison.OrdinalIgnoreCase)))
            {
                Console.WriteLine($"{setup.Label} ...");
                var workers = Enumerable.Range(0, machines).Select(k => ClusterProcess.StartIn(network.Namespace(k), $"worker {k}", [
                    "worker", "--gateways", $"{network.Address(k)}:{Gateway}", "--mode", setup.Mode, "--run", setup.Run, "--id", $"{k}",
                    "--workers", $"{machines}", "--model", modelPath, "--data", folder, "--rows", $"{k * rowsPerWorker}:{rowsPerWorker}",
                    "--epochs", $"{epochs}", "--batch", $"{Batch}", "--deadline", "900", "--wait-for-go", "yes", .. setup.Options])).ToArray();
                WorkerOutcome[] outcomes;
                (long Sent, long Received)[] before;
                Stopwatch watch;
                try
                {
                    // Every worker connected and initialized; then the counters, and all start at once.
                    await Task.WhenAll(workers.Select(w => w.WaitForLineAsync("ready", TimeSpan.FromMinutes(5))));
                    before = network.Counters();
                    watch = Stopwatch.StartNew();
                    await Task.WhenAll(workers.Select(w => w.SendLineAsync("go")));
                    outcomes = await Task.WhenAll(workers.Select((w, k) => WorkerWatch.FollowAsync(w, k, null, CancellationToken.None)));
                }
                finally
                {
                    foreach (var worker in workers)
                        await worker.DisposeAsync();
                }
                var after = network.Counters();
                if (outcomes.FirstOrDefault(o => o.Report is null) is { } failed)
                {
                    Console.Error.WriteLine($"{setup.Label}: worker {failed.Worker} did not finish: {failed.Message}");
                    return 1;
                }
                var reports = outcomes.Select(o => o.Report!).ToArray();
                double samplesPerSecond = reports.Sum(r => r.Samples) / reports.Max(r => r.Elapsed.TotalSeconds);
                double rounds = reports.Sum(r => r.Steps) / (double)machines;
                var links = before.Zip(after, (b, a) => (Sent: a.Sent - b.Sent, Received: a.Received - b.Received)).ToArray();
                double busiest = links.Max(l => Math.Max(l.Sent, l.Received)) / rounds;
                double model = setup.BusiestBytes(machines, parameterBytes);
                double bound = machines * Batch / (setup.PathBytes(machines, parameterBytes) / network.BytesPerSecond);
                measured[setup.Label] = samplesPerSecond;
                predicted[setup.Label] = bound;
                rows.Add($"| {setup.Label} | {samplesPerSecond:N0} | {bound:N0} | {samplesPerSecond / bound:P0} | {busiest / 1e6:F2} MB | {model / 1e6:F2} MB | " +
                         $"{links.Sum(l => l.Sent) / 1e6:N0} MB | {watch.Elapsed.TotalSeconds:F0} s |");
            }

            Console.WriteLine();
            Console.WriteLine("| setup | samples/s | link-bound model | measured/model | busiest link per round | model | all links sent | wall-clock |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
            rows.ForEach(Console.WriteLine);
            Console.WriteLine();
            Ratio($"Downpour, {machines} shards against 1", setups[1].Label, setups[0].Label);
            Ratio($"Downpour, {machines} shards, overlapped against awaited", setups[2].Label, setups[1].Label);
            Ratio("synchronous, ring against one grain", setups[5].Label, setups[4].Label);
            Ratio("synchronous, scatter-gather against one grain", setups[6].Label, setups[4].Label);
            return 0;

            void Ratio(string what, string better, string worse)
            {
                if (measured.ContainsKey(better) && measured.ContainsKey(worse))
                    Console.WriteLine($"{what}: {measured[better] / measured[worse]:F2}x (model {predicted[better] / predicted[worse]:F2}x)");
            }
        }
        finally
        {
            await Task.WhenAll(silos.Select(s => s.DisposeAsync().AsTask()));
            network.Dispose();
            work.Delete(recursive: true);
        }
    }

    /// <summary>EASGD: every τ steps each worker sends its parameters to the center and gets new ones back; the center's machine carries N − 1 of each.</summary>
    private static double EasgdBytes(int machines, double parameterBytes) => (machines - 1) * parameterBytes / Runs.EasgdOptions(1, Batch).Tau;

    /// <summary>
    /// Downpour's bytes over the busiest link direction per round with <paramref name="shards"/> shards on
    /// <paramref name="machines"/> machines (shard s on machine s mod N, the order the silos are listed in;
    /// worker k on machine k): every step pushes the gradients (a 1/S slice to each shard), every second
    /// step fetches the parameters; what stays on one machine crosses no link.
    /// </summary>
    private static double DownpourBytes(int machines, int shards, double parameterBytes)
    {
        int fetchEvery = Runs.DownpourOptions(1, Batch).FetchEvery;
        var up = new double[machines];
        var down = new double[machines];
        double slice = parameterBytes / shards;
        for (int worker = 0; worker < machines; worker++)
        {
            for (int shard = 0; shard < shards; shard++)
            {
                int host = shard % machines;
                if (host == worker)
                    continue;
                up[worker] += slice;                  // the push
                down[host] += slice;
                down[worker] += slice / fetchEvery;   // the fetch's answer
                up[host] += slice / fetchEvery;
            }
        }
        return Math.Max(up.Max(), down.Max());
    }
}
