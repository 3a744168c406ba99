using Microsoft.Extensions.DependencyInjection;
using NeuralBasics.Optimizers;
using NeuralBasics.Training.Distributed;
using Orleans.Configuration;
using Orleans.Storage;
using Orleans.TestingHost;

namespace NeuralBasics.Orleans.Tests;

/// <summary>A real two-silo Orleans cluster, started by the tests and stopped after them.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.Client;

    public async Task InitializeAsync() => Cluster = await StartAsync();

    /// <summary>
    /// Starts another two-silo cluster with the same runs, for a test that stops a silo: the
    /// stopped one may be the primary, which the test cluster's membership and a restarted silo
    /// depend on, so such a test must not share its cluster.
    /// </summary>
    /// <param name="transport">How silos and clients talk: Orleans' in-memory test transport by default; TCP on
    /// 127.0.0.1 when clients in other processes must reach the gateways.</param>
    public static async Task<TestCluster> StartAsync(ConnectionTransportType transport = ConnectionTransportType.InMemory)
    {
        var builder = new TestClusterBuilder(2);
        builder.Options.ConnectionTransport = transport;
        builder.AddSiloBuilderConfigurator<Silos>();
        builder.AddClientBuilderConfigurator<Clients>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    /// <summary>The runs every silo knows.</summary>
    private sealed class Silos : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            silo.Services.AddKeyedSingleton<IGrainStorage>(NeuralBasicsTrainingOptions.StorageName, (_, _) => new SharedGrainStorage());
            silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10));
            silo.AddNeuralBasicsTraining(o =>
            {
                o.CenterPersistEvery = 5;
                foreach (string run in new[] { "sgd-equivalence", "protocol", "failover-graceful", "downpour-floor" })
                    o.AddParameterServer(run, new Sgd(0.05), persistEvery: 5);
                o.AddParameterServer("adam-order", new Adam(0.1));
                o.AddParameterServer("placement", new Sgd(0.05));
                foreach (string precision in new[] { "Full", "BFloat16", "Half" })
                    o.AddParameterServer($"precision-{precision}", new Adam(1e-3));
                foreach (bool overlap in new[] { false, true })
                    o.AddParameterServer($"overlap-{overlap}", new Adam(1e-3));
                foreach (int shards in new[] { 1, 2, 4 })
                    o.AddParameterServer($"sharded-{shards}", new Adam(0.05));
                o.AddParameterServer("bounded", new Sgd(1), new StalenessBound(0));
                o.AddParameterServer("scaled", new Sgd(1), new StalenessBound(1, StaleGradientHandling.Scale));
                o.AddParameterServer("worker-processes", new Adam(1e-3), persistEvery: 10);
                o.AddParameterServer("worker-deadline", new Adam(1e-3));
                o.AddParameterServer("mismatch", new Sgd(0.1));
                o.AddParameterServer("restart", new Sgd(0.1));
                o.AddParameterServer("hard-kill", new Sgd(0.05), persistEvery: 5);
                o.AddParameterServer("hard-kill-sharded", new Sgd(0.05), persistEvery: 5);
            });
        }
    }

    private sealed class Clients : IClientBuilderConfigurator
    {
        public void Configure(Microsoft.Extensions.Configuration.IConfiguration configuration, IClientBuilder client) =>
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10));
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "Orleans cluster";
}
