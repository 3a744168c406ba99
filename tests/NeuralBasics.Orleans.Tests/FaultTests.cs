using NeuralBasics.Activations;
using NeuralBasics.Cluster;
using NeuralBasics.Data;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Models;
using NeuralBasics.Optimizers;
using NeuralBasics.Scoring;
using NeuralBasics.Training.Distributed;
using NeuralBasics.Training;
using Orleans.TestingHost;

namespace NeuralBasics.Orleans.Tests;

/// <summary>
/// Faults on a real cluster: worker processes (the cluster sample's <c>worker</c> command, started and
/// killed by the test) joining a two-silo TestingHost cluster over TCP on 127.0.0.1, and a silo killed
/// without warning while it holds the parameter server.
/// </summary>
public sealed class FaultTests
{
    private static readonly string Subset = Path.Combine(AppContext.BaseDirectory, "TestData", "fashion-mnist-subset");

    [Fact(Timeout = 180_000)]
    public async Task AWorkerProcessKilledMidRun_TheOtherFinishes_AndTheServerStateIsIntact()
    {
        await using var cluster = await ClusterFixture.StartAsync(ConnectionTransportType.TcpSocket);
        using var folder = new TemporaryFolder();
        var start = new Classifier<float>(new NetworkBuilder<float>(784, seed: 5).Dense(32, new Relu()).Dense(10).Build(), SoftmaxCrossEntropyLoss.Instance);
        string model = Path.Combine(folder.Path, "start.safetensors");
        start.Save(model);
        string gateways = string.Join(',', cluster.Silos.Select(s => s.GatewayAddress.Endpoint.ToString()));
        // Eight epochs for the survivor: with six, asynchronous updates left the test accuracy at
        // 75.8–78.9% in eight runs and once at 71.6%, under the 72% below; with eight, 78.5–79.8%.
        const int batch = 64, rows = 1500, survivorEpochs = 8;

        // Worker 0 reads images 0-1499 of the IDX files; worker 1 a CSV file holding images 1500-2999.
        string csv = Path.Combine(folder.Path, "shard-1.csv");
        WriteCsv(FashionMnist.LoadTrainingRows<float>(Subset, rows, rows), csv);
        string[][] shards = [["--data", Subset, "--rows", $"0:{rows}"], ["--csv", csv]];

        ClusterProcess Worker(int id, int epochs) => ClusterProcess.StartProgram($"worker {id}", typeof(ClusterProcess).Assembly.Location,
            ["worker", "--gateways", gateways, "--mode", "downpour", "--run", "worker-processes", "--id", $"{id}", "--workers", "2",
             "--model", model, .. shards[id], "--epochs", $"{epochs}", "--batch", $"{batch}",
             "--deadline", "120", "--cluster-id", cluster.Options.ClusterId, "--service-id", cluster.Options.ServiceId]);

        await using var survivor = Worker(0, survivorEpochs);
        await using var victim = Worker(1, 100);
        long victimSteps = 0;
        var survivorRun = WorkerWatch.FollowAsync(survivor, 0, null, CancellationToken.None);
        var victimRun = WorkerWatch.FollowAsync(victim, 1, report =>
        {
            // Killed when its first epoch report arrives (it may have finished more by then: their
            // reports are still in the pipe and arrive here too, and every push they count was answered).
            victimSteps = Math.Max(victimSteps, report.Steps);
            victim.Kill();
            return Task.CompletedTask;
        }, CancellationToken.None);
        var (kept, killed) = (await survivorRun, await victimRun);

        Assert.True(kept.Report is not null, $"the surviving worker did not finish: {kept.Message}");
        Assert.Equal(0, kept.ExitCode);
        Assert.Equal(survivorEpochs, kept.Report.Epoch);
        Assert.Equal(survivorEpochs * ((rows + batch - 1) / batch), kept.Report.Steps);
        Assert.Null(killed.Report);
        Assert.NotEqual(0, killed.ExitCode);
        const int stepsPerEpoch = (rows + batch - 1) / batch;
        Assert.True(victimSteps >= stepsPerEpoch && victimSteps % stepsPerEpoch == 0, $"victim reported {victimSteps} steps");

        // The server applied every push of the survivor and of the victim's reported epochs, and no
        // more than the victim could have sent in the epoch it died in.
        var server = new OrleansParameterServer<float>(cluster.Client, "worker-processes");
        var status = await server.Grain.Status();
        long fromVictim = status.Version - kept.Report.Steps;
        Assert.InRange(fromVictim, victimSteps, victimSteps + stepsPerEpoch);
        var trained = start.CopyScoreFunction();
        await server.FetchAsync(new MessageStamp(99, 1), [.. trained.Parameters.Select(p => p.Value.Memory)]);
        Assert.All(trained.Parameters, p => Assert.True(p.Value.Span.ToArray().All(float.IsFinite)));
        var (_, test) = FashionMnist.Load<float>(Subset);
        double accuracy = new Classifier<float>(trained, start.Loss).Accuracy(test);
        double before = start.Accuracy(test);
        Assert.True(accuracy >= 0.72, $"test accuracy {accuracy:P1} (before training {before:P1})");
    }

    [Theory(Timeout = 180_000)]
    [InlineData("grain")]
    [InlineData("ring")]
    [InlineData("scatter")]
    public async Task ASynchronousWorkerProcessKilledMidRound_IsDroppedAtTheRoundDeadline_AndTheOthersFinishTogether(string reduce)
    {
        await using var cluster = await ClusterFixture.StartAsync(ConnectionTransportType.TcpSocket);
        using var folder = new TemporaryFolder();
        var start = new Classifier<float>(new NetworkBuilder<float>(784, seed: 5).Dense(16, new Relu()).Dense(10).Build(), SoftmaxCrossEntropyLoss.Instance);
        string model = Path.Combine(folder.Path, "start.safetensors");
        start.Save(model);
        string gateways = string.Join(',', cluster.Silos.Select(s => s.GatewayAddress.Endpoint.ToString()));
        const int epochs = 4, rows = 300, batch = 50;
        string run = $"sync-deadline-{reduce}";
        // The grain's round waits the deadline from its first contribution; a peer exchange waits it
        // from each worker's start, then the referee twice it: 3 s keeps that inside the 10 s call timeout.
        int deadline = reduce == "grain" ? 5000 : 3000;

        ClusterProcess Worker(int id) => ClusterProcess.StartProgram($"worker {id}", typeof(ClusterProcess).Assembly.Location,
            ["worker", "--gateways", gateways, "--mode", "sync", "--reduce", reduce, "--run", run, "--id", $"{id}", "--workers", "3",
             "--model", model, "--data", Subset, "--rows", $"{id * rows}:{rows}", "--epochs", $"{epochs}", "--batch", $"{batch}",
             "--round-deadline", $"{deadline}", "--snapshots", folder.Path, "--deadline", "150",
             "--cluster-id", cluster.Options.ClusterId, "--service-id", cluster.Options.ServiceId]);

        await using var first = Worker(0);
        await using var second = Worker(1);
        await using var victim = Worker(2);
        var runs = new[]
        {
            WorkerWatch.FollowAsync(first, 0, null, CancellationToken.None),
            WorkerWatch.FollowAsync(second, 1, null, CancellationToken.None),
            // Killed when its first epoch ends (after every worker joined, so the deadline applies): the
        // others are then in, or about to start, a round it will never join. 5 s: on two loaded cores a
        // live worker can fall a second or two behind, and must not be taken for dead.
            WorkerWatch.FollowAsync(victim, 2, _ => { victim.Kill(); return Task.CompletedTask; }, CancellationToken.None),
        };
        var outcomes = await Task.WhenAll(runs);

        Assert.All(outcomes.Take(2), o => Assert.True(o.Report is { Epoch: epochs }, $"a survivor did not finish: {o.Message}"));
        Assert.Null(outcomes[2].Report);
        int[] members = reduce == "grain"
            ? await (await OrleansAllReduce<float>.JoinAsync(cluster.Client, run, 3, TimeSpan.FromMilliseconds(deadline))).MembersAsync()
            : await (await OrleansRoundReferee.JoinAsync(cluster.Client, run, 3, TimeSpan.FromMilliseconds(2 * deadline))).MembersAsync();
        Assert.Equal([0, 1], members);
        // The survivors applied the same sums in the same order: their final models are the same bits.
        byte[] Final(int id) => File.ReadAllBytes(Path.Combine(folder.Path, $"worker-{id}-epoch-{epochs}.safetensors"));
        Assert.Equal(Final(0), Final(1));
        var trained = Classifier<float>.Load(Path.Combine(folder.Path, $"worker-0-epoch-{epochs}.safetensors"));
        Assert.All(trained.CopyScoreFunction().Parameters, p => Assert.True(p.Value.Span.ToArray().All(float.IsFinite)));
    }

    [Fact(Timeout = 120_000)]
    public async Task AWorkerProcessPastItsDeadline_StopsAndSaysSo()
    {
        await using var cluster = await ClusterFixture.StartAsync(ConnectionTransportType.TcpSocket);
        using var folder = new TemporaryFolder();
        string model = Path.Combine(folder.Path, "start.safetensors");
        new Classifier<float>(new LinearScore<float>(784, 10, seed: 1), SoftmaxCrossEntropyLoss.Instance).Save(model);
        await using var worker = ClusterProcess.StartProgram("worker", typeof(ClusterProcess).Assembly.Location,
            "worker", "--gateways", string.Join(',', cluster.Silos.Select(s => s.GatewayAddress.Endpoint.ToString())),
            "--mode", "downpour", "--run", "worker-deadline", "--id", "0", "--model", model, "--data", Subset, "--rows", "0:500",
            "--epochs", "1000000", "--deadline", "4", "--cluster-id", cluster.Options.ClusterId, "--service-id", cluster.Options.ServiceId);
        var outcome = await WorkerWatch.FollowAsync(worker, 0, null, CancellationToken.None);

        Assert.Equal(3, outcome.ExitCode);
        Assert.Null(outcome.Report);
        Assert.Contains("deadline of 4 s passed", outcome.Message);
    }

    [Fact(Timeout = 180_000)]
    public async Task ASiloKilledWhileHoldingTheServer_LosesOnlyWhatWasNotPersisted_AndTheRunReachesTheFloor()
    {
        await using var cluster = await ClusterFixture.StartAsync();
        // The server goes on the secondary silo (Orleans' placement hint on its first call): the
        // primary holds the test cluster's membership, which the rest of the run needs.
        var secondary = cluster.Silos.Single(s => s != cluster.Primary).SiloAddress;
        const string run = "hard-kill";

        // The server persists every 5 updates; the workers hold after 28 (HeldRun): 25 persisted.
        using var held = new HeldRun();
        var server = new OrleansParameterServer<double>(cluster.Client, run, HeldRun.Retry);
        RequestContext.Set(global::Orleans.Runtime.Placement.IPlacementDirector.PlacementHintKey, secondary);
        try
        {
            await server.InitializeAsync(held.Initial);
        }
        finally
        {
            RequestContext.Remove(global::Orleans.Runtime.Placement.IPlacementDirector.PlacementHintKey);
        }
        Assert.Equal(secondary.ToString(), (await server.Grain.Status()).Silo);
        held.StartAndHold(server);

        var before = await server.Grain.Status();
        Assert.Equal((28, 25), (before.Version, before.PersistedVersion));
        await cluster.KillSiloAsync(cluster.Silos.Single(s => s.SiloAddress.ToString() == before.Silo));
        var reports = await held.ResumeAsync();

        // The grain came back on the other silo from storage: the 3 updates after the last write are
        // lost, every later push applied once.
        var after = await server.Grain.Status();
        Assert.NotEqual(before.Silo, after.Silo);
        Assert.Equal(reports.Sum(r => r.Steps) - (before.Version - before.PersistedVersion), after.Version);
        double accuracy = await held.AccuracyAsync(server);
        Assert.True(accuracy >= 0.95, $"accuracy {accuracy:P1}");
    }

    /// <summary>
    /// The sharded server (two shard grains, one per silo) with the silo of one shard killed mid-run:
    /// that shard comes back on the other silo from storage with the updates since its last write
    /// lost, the other shard loses none, and the run still reaches its accuracy floor.
    /// </summary>
    [Fact(Timeout = 180_000)]
    public async Task ASiloKilledWhileHoldingOneShard_LosesOnlyThatShardsUnpersistedUpdates_TheOtherShardNone()
    {
        await using var cluster = await ClusterFixture.StartAsync();
        const string run = "hard-kill-sharded";
        using var held = new HeldRun();
        // Equal ranges of the 9 values: the 2x3 weights are cut between the shards.
        var server = await OrleansParameterServer<double>.CreateShardedAsync(cluster.Client, run, held.Initial, shards: 2, retry: HeldRun.Retry);
        var shards = server.Shards.Cast<OrleansParameterServer<double>>().ToArray();
        var silos = await Task.WhenAll(shards.Select(async s => (await s.Grain.Status()).Silo));
        Assert.NotEqual(silos[0], silos[1]);
        // The shard off the primary silo dies with its silo (the primary holds the test cluster's membership).
        Assert.NotNull(cluster.Primary);
        string primary = cluster.Primary.SiloAddress.ToString();
        int victim = Array.FindIndex(silos, s => s != primary);

        // The workers hold after 28 pushes on each shard (HeldRun), 25 persisted.
        held.StartAndHold(server);
        var before = await Task.WhenAll(shards.Select(s => s.Grain.Status()));
        Assert.All(before, b => Assert.Equal((28L, 25L), (b.Version, b.PersistedVersion)));

        await cluster.KillSiloAsync(cluster.Silos.Single(s => s.SiloAddress.ToString() == silos[victim]));
        var reports = await held.ResumeAsync();

        long pushes = reports.Sum(r => r.Steps);
        var after = await Task.WhenAll(shards.Select(s => s.Grain.Status()));
        Assert.NotEqual(silos[victim], after[victim].Silo);
        Assert.Equal(pushes - (before[victim].Version - before[victim].PersistedVersion), after[victim].Version);
        Assert.Equal(pushes, after[1 - victim].Version);
        double accuracy = await held.AccuracyAsync(server);
        Assert.True(accuracy >= 0.95, $"accuracy {accuracy:P1}");
    }

    private static void WriteCsv(DataSet<float> data, string path)
    {
        using var writer = new StreamWriter(path);
        writer.WriteLine("label," + string.Join(',', Enumerable.Range(0, data.FeatureCount).Select(k => $"pixel{k}")));
        for (int i = 0; i < data.Count; i++)
            writer.WriteLine($"{data.Labels[i]}," + string.Join(',', data.Features.Span.Slice(i * data.FeatureCount, data.FeatureCount).ToArray()
                .Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))));
    }

    /// <summary>
    /// The silo-kill tests' run: 300 rows of blobs in a fixed shuffle and a 2-3 linear model; two
    /// Downpour workers (plain SGD, a push and a fetch every step) of 100 rows each, 7 batches of 16
    /// an epoch, held after epoch 2 — 28 pushes applied — until resumed.
    /// </summary>
    private sealed class HeldRun : IDisposable
    {
        /// <summary>Retries long enough to outlast a killed silo's grains coming back elsewhere.</summary>
        public static readonly RetryPolicy Retry = new() { Attempts = 12, FirstDelay = TimeSpan.FromMilliseconds(250) };

        private readonly DataSet<double> _data = SyntheticData.Blobs<double>(100, 3, 2, seed: 21);
        private readonly LinearScore<double> _start = new(2, 3, seed: 22);
        private readonly CountdownEvent _paused = new(2);
        private readonly ManualResetEventSlim _resume = new();
        private Task<WorkerReport>[] _workers = [];

        /// <summary>The model's starting tensors, for the server.</summary>
        public ReadOnlyMemory<double>[] Initial => [.. _start.Parameters.Select(p => (ReadOnlyMemory<double>)p.Value.Memory)];

        /// <summary>Starts the two workers against <paramref name="server"/> and returns once both hold after epoch 2.</summary>
        public void StartAndHold(IParameterServer<double> server)
        {
            var order = Enumerable.Range(0, _data.Count).ToArray();
            new Random(4).Shuffle(order);
            var options = new DownpourOptions { FetchEvery = 1, PushEvery = 1, Epochs = 8, BatchSize = 16, Seed = 3 };
            _workers = [.. Enumerable.Range(0, 2).Select(w => Task.Run(() =>
                new DownpourWorker<double>(new TrainingSetup<double>(_start.Clone(), SoftmaxCrossEntropyLoss.Instance, null, new Sgd(0.05)), server, w, options)
                    .RunAsync(_data, order[(w * 100)..((w + 1) * 100)], new Pause(2, _paused, _resume))))];
            Assert.True(_paused.Wait(TimeSpan.FromSeconds(60)), "the workers did not reach epoch 2");
        }

        /// <summary>Lets the workers go on and waits for their reports.</summary>
        public Task<WorkerReport[]> ResumeAsync()
        {
            _resume.Set();
            return Task.WhenAll(_workers);
        }

        /// <summary>The accuracy on the run's data of the parameters <paramref name="server"/> holds.</summary>
        public async Task<double> AccuracyAsync(IParameterServer<double> server)
        {
            var model = _start.Clone();
            await server.FetchAsync(new MessageStamp(0, 1), [.. model.Parameters.Select(p => p.Value.Memory)]);
            return new Classifier<double>(model, SoftmaxCrossEntropyLoss.Instance).Accuracy(_data);
        }

        public void Dispose()
        {
            _resume.Set();
            _paused.Dispose();
            _resume.Dispose();
        }
    }

    /// <summary>Holds the worker's thread after epoch <paramref name="epoch"/> until <paramref name="resume"/> is set.</summary>
    private sealed class Pause(int epoch, CountdownEvent paused, ManualResetEventSlim resume) : IProgress<WorkerReport>
    {
        public void Report(WorkerReport value)
        {
            if (value.Epoch != epoch)
                return;
            paused.Signal();
            resume.Wait(TimeSpan.FromSeconds(60));
        }
    }

    private sealed class TemporaryFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("neuralbasics-orleans-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
