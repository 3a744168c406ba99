using Orleans.TestingHost;

namespace NeuralBasics.Benchmarks.Cluster;

/// <summary>The benchmarks' cluster: two TestingHost silos whose silos and client talk over TCP on 127.0.0.1.</summary>
internal static class LoopbackCluster
{
    /// <summary>Starts the two silos, configured by <typeparamref name="TSilos"/>, and the client.</summary>
    public static TestCluster Start<TSilos>()
        where TSilos : ISiloConfigurator, new()
    {
        var builder = new TestClusterBuilder(2);
        builder.Options.ConnectionTransport = ConnectionTransportType.TcpSocket;
        builder.AddSiloBuilderConfigurator<TSilos>();
        var cluster = builder.Build();
        cluster.DeployAsync().GetAwaiter().GetResult();
        return cluster;
    }

    /// <summary>Stops the silos and disposes the cluster.</summary>
    public static void Stop(TestCluster cluster)
    {
        cluster.StopAllSilosAsync().GetAwaiter().GetResult();
        cluster.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
