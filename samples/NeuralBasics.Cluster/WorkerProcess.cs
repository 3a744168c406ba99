using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NeuralBasics.Csv;
using NeuralBasics.Data;
using NeuralBasics.Models;
using NeuralBasics.Optimizers;
using NeuralBasics.Orleans;
using NeuralBasics.Training.Distributed;
using NeuralBasics.Training;
using Orleans.Configuration;

namespace NeuralBasics.Cluster;

/// <summary>
/// One worker process. It joins the cluster as an Orleans client (<c>--gateways</c>, or
/// <c>--postgres</c> for the membership table of a cluster across machines), builds its
/// replica from a model file (architecture and starting weights, <c>--model</c>), loads only its own
/// shard — a range of the Fashion-MNIST training images (<c>--data FOLDER --rows START:COUNT</c>) or a
/// CSV file of its own (<c>--csv FILE</c>) — and trains it with the usual pieces
/// (<see cref="DownpourWorker{T}"/>, <see cref="ElasticAveragingWorker{T}"/> or
/// <see cref="SynchronousWorker{T}"/>) against the run's grain.
/// </summary>
/// <remarks>
/// It reports on standard output, one JSON object per line: <c>{"event":"epoch","report":…}</c> after
/// each epoch, then <c>{"event":"done","report":…}</c>; or <c>{"event":"failed","message":…}</c>
/// (exit code 1) and <c>{"event":"deadline",…}</c> when <c>--deadline</c> seconds pass first (exit
/// code 3). Orleans' own log goes to standard error. With <c>--snapshots FOLDER</c> the worker saves
/// its replica after every epoch as <c>worker-K-epoch-E.safetensors</c> (in synchronous mode every
/// replica is the model). In synchronous mode <c>--round-deadline MS</c> lets the others go on
/// without a worker that misses a round by that much (it is dropped for the rest of the run), and
/// <c>--reduce scatter</c> or <c>ring</c> sums the gradients through the workers' own mailboxes
/// (<see cref="ScatterAllReduce{T}"/>, <see cref="RingAllReduce{T}"/>) instead of the run's one
/// all-reduce grain — with a round deadline there, the run's referee grain decides each round
/// (<see cref="OrleansRoundReferee"/>, waiting twice the deadline); in Downpour
/// <c>--shards S</c> splits the server over S grains, one per silo, and <c>--overlap yes</c> lets the
/// exchanges overlap the next steps' compute (<see cref="DownpourOptions.Overlap"/>). With <c>--wait-for-go yes</c> it
/// writes "ready" once connected and initialized, and trains when a line "go" arrives on its standard input.
/// </remarks>
internal static class WorkerProcess
{
    private static readonly object OutputLock = new();

    public static async Task<int> RunAsync(Arguments args)
    {
        string? database = args.Text("postgres");
        var gateways = database is null ? args.Required("gateways").Split(',').Select(ParseEndPoint).ToArray() : [];
        string mode = args.Required("mode");
        string run = args.Required("run");
        int id = args.Number("id");
        int workers = args.Number("workers", 1);
        int epochs = args.Number("epochs", 3);
        int batch = args.Number("batch", 128);
        int deadline = args.Number("deadline", 3600);
        string? snapshots = args.Text("snapshots");
        int shards = args.Number("shards", 1);
        string reduce = args.Text("reduce") ?? "grain";
        if (mode is not ("downpour" or "easgd" or "sync"))
            throw new ArgumentException($"--mode must be downpour, easgd or sync, not \"{mode}\".");
        if (shards < 1)
            throw new ArgumentException($"--shards must be at least 1, not {shards}.");
        if (reduce is not ("grain" or "ring" or "scatter"))
            throw new ArgumentException($"--reduce must be grain, ring or scatter, not \"{reduce}\".");

        var start = Classifier<float>.Load(args.Required("model"));
        var data = LoadShard(args, start.ClassCount);

        var builder = Host.CreateApplicationBuilder();
        Runs.QuietLogging(builder);
        builder.UseOrleansClient(client =>
        {
            // The gateways named, or (across machines) those the membership table in PostgreSQL lists.
            if (database is not null)
                client.UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = ("Npgsql", database));
            else
                client.UseStaticClustering(gateways);
            // Silos may still be starting, or the table may still list silos that died: keep trying
            // (until the deadline) rather than give up on the first gateway that refuses.
            client.UseConnectionRetryFilter(async (_, cancellationToken) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                return true;
            });
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = args.Text("cluster-id") ?? Runs.ClusterId;
                o.ServiceId = args.Text("service-id") ?? Runs.ServiceId;
            });
        });
        using var host = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(deadline));
        try
        {
            await host.StartAsync(timeout.Token);
            var grains = host.Services.GetRequiredService<IClusterClient>();
            var replica = start.CopyScoreFunction();
            var initial = replica.Parameters.Select(p => (ReadOnlyMemory<float>)p.Value.Memory).ToArray();
            var setup = new TrainingSetup<float>(replica, start.Loss, null, new Adam(Runs.LearningRate));
            // A replacement started under the id of a worker that died takes a later incarnation:
            // the shared state then starts a new message stream for it (and refuses the old one).
            long incarnation = DateTime.UtcNow.Ticks;
            DistributedWorker<float> worker;
            switch (mode)
            {
                case "downpour":
                    // One server grain, or (--shards S) the model cut into S equal ranges on S grains, one per silo.
                    IParameterServer<float> server;
                    if (shards == 1)
                    {
                        var one = new OrleansParameterServer<float>(grains, run);
                        await one.InitializeAsync(initial, timeout.Token);
                        server = one;
                    }
                    else
                    {
                        server = await OrleansParameterServer<float>.CreateShardedAsync(grains, run, initial, shards, cancellationToken: timeout.Token);
                    }
                    // --overlap yes: pushes and fetches overlap the next steps' compute.
                    var downpour = Runs.DownpourOptions(epochs, batch) with { Overlap = args.Text("overlap") == "yes" };
                    worker = new DownpourWorker<float>(setup, server, id, downpour) { Incarnation = incarnation };
                    break;
                case "easgd":
                    var center = new OrleansCenterVariable<float>(grains, run);
                    await center.InitializeAsync(initial, timeout.Token);
                    worker = new ElasticAveragingWorker<float>(setup, center, id, Runs.EasgdOptions(epochs, batch)) { Incarnation = incarnation };
                    break;
                case "sync" when reduce is "ring" or "scatter":
                    // The workers' mailboxes, worker w's on the w-th silo: on the emulated cluster (scale) the silo
                    // of its own machine. Elsewhere it only spreads them; say so when this worker's is not local.
                    var mailboxes = new OrleansRingNetwork<float>(grains, run);
                    var silos = await OrleansPlacement.ActiveSilosAsync(grains, timeout.Token);
                    await mailboxes.PlaceMailboxesAsync(workers, silos, timeout.Token);
                    if (gateways.Length > 0 && !silos[id % silos.Count].Endpoint.Address.Equals(gateways[0].Address))
                        Console.Error.WriteLine($"worker {id}: its mailbox is on {silos[id % silos.Count]}, not on the silo of its gateway {gateways[0]}.");
                    // With a round deadline a referee decides each round once for all (apply, or redo without the silent).
                    var peerDeadline = TimeSpan.FromMilliseconds(args.Number("round-deadline", 0));
                    var referee = peerDeadline > TimeSpan.Zero
                        ? await OrleansRoundReferee.JoinAsync(grains, run, workers, 2 * peerDeadline, cancellationToken: timeout.Token)
                        : null;
                    IGradientAllReduce<float> peers = reduce == "ring"
                        ? new RingAllReduce<float>(mailboxes, workers, referee, peerDeadline)
                        : new ScatterAllReduce<float>(mailboxes, workers, referee, peerDeadline);
                    worker = new SynchronousWorker<float>(setup, peers, id, Runs.SynchronousOptions(epochs, batch));
                    break;
                default:
                    // A round deadline drops a worker that misses it (a killed process) and lets the others go on.
                    var roundDeadline = TimeSpan.FromMilliseconds(args.Number("round-deadline", 0));
                    var allReduce = await OrleansAllReduce<float>.JoinAsync(grains, run, workers, roundDeadline, cancellationToken: timeout.Token);
                    worker = new SynchronousWorker<float>(setup, allReduce, id, Runs.SynchronousOptions(epochs, batch));
                    break;
            }
            if (args.Text("wait-for-go") == "yes")
            {
                // Connected and initialized: the launcher starts every worker's clock at once (and
                // reads the links' counters first) by writing "go".
                lock (OutputLock)
                    Console.Out.WriteLine("ready");
                while (await Console.In.ReadLineAsync(timeout.Token) is { } line && line != "go")
                {
                }
            }
            var progress = new LineProgress(report =>
            {
                if (snapshots is not null)
                    new Classifier<float>(replica, start.Loss).Save(Path.Combine(snapshots, $"worker-{id}-epoch-{report.Epoch}.safetensors"));
                Write(new { @event = "epoch", report });
            });
            var final = await worker.RunAsync(data, progress, timeout.Token);
            Write(new { @event = "done", report = final });
            return 0;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            Write(new { @event = "deadline", message = $"worker {id} stopped: its deadline of {deadline} s passed" });
            return 3;
        }
        catch (Exception e)
        {
            Write(new { @event = "failed", message = $"worker {id}: {e.GetType().Name}: {e.Message}" });
            return 1;
        }
        finally
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await host.StopAsync(stop.Token).ContinueWith(_ => { });
        }
    }

    private static DataSet<float> LoadShard(Arguments args, int classCount)
    {
        if (args.Text("csv") is { } csv)
            return CsvDataSet.Read<float>(csv, new CsvDataSetOptions { ClassCount = classCount });
        string rows = args.Required("rows");
        var parts = rows.Split(':');
        if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out int first)
            || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out int count))
            throw new ArgumentException($"--rows must be START:COUNT, not \"{rows}\".");
        return FashionMnist.LoadTrainingRows<float>(args.Text("data"), first, count);
    }

    private static IPEndPoint ParseEndPoint(string text) =>
        IPEndPoint.TryParse(text, out var endPoint) && endPoint.Port != 0
            ? endPoint
            : throw new ArgumentException($"A gateway is HOST:PORT with a numeric address (127.0.0.1:30000), not \"{text}\".");

    private static void Write(object line)
    {
        string text = JsonSerializer.Serialize(line, WorkerEvent.Json);
        lock (OutputLock)
        {
            Console.Out.WriteLine(text);
            Console.Out.Flush();
        }
    }

    /// <summary>Runs the action on the worker's own thread, in order, as each epoch ends (not posted elsewhere as <see cref="Progress{T}"/> does).</summary>
    private sealed class LineProgress(Action<WorkerReport> action) : IProgress<WorkerReport>
    {
        public void Report(WorkerReport value) => action(value);
    }
}
