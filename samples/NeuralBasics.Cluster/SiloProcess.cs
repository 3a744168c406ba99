using System.Net;
using Microsoft.Extensions.Hosting;
using NeuralBasics.Orleans;
using Orleans.Configuration;

namespace NeuralBasics.Cluster;

/// <summary>
/// One silo. On one machine: <c>silo --port 11111 --gateway 30000 [--primary 11111]</c>, localhost
/// clustering, where the first silo is the primary (it holds the development membership table) and
/// the others name its port, and grain state in Orleans' memory storage (held by storage grains
/// spread over the silos: fine for a demonstration, lost with a silo). Across machines:
/// <c>silo --port 11111 --gateway 30000 --advertise HOST-IP --postgres CONNECTION-STRING</c>, with
/// membership and grain state in PostgreSQL through Orleans' ADO.NET providers (README, "Training
/// across machines"). Prints "ready" when it accepts clients and stops gracefully when its standard
/// input closes or it receives SIGTERM / Ctrl+C.
/// </summary>
internal static class SiloProcess
{
    public static async Task<int> RunAsync(Arguments args)
    {
        int port = args.Number("port");
        int gateway = args.Number("gateway");
        int primary = args.Number("primary", port);
        string clusterId = args.Text("cluster-id") ?? Runs.ClusterId;
        string serviceId = args.Text("service-id") ?? Runs.ServiceId;

        var builder = Host.CreateApplicationBuilder();
        Runs.QuietLogging(builder);
        builder.UseOrleans(silo =>
        {
            if (args.Text("postgres") is { } database)
            {
                // Every silo and client of the cluster names the same database; the silo listens on all
                // addresses and tells the others the one given (or its host name's first IPv4 address).
                var advertised = args.Text("advertise") is { } address ? ParseAddress(address, "advertise") : null;
                silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, serviceId))
                    .UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = ("Npgsql", database))
                    .AddAdoNetGrainStorage(NeuralBasicsTrainingOptions.StorageName, o => (o.Invariant, o.ConnectionString) = ("Npgsql", database));
                if (advertised is not null)
                    silo.ConfigureEndpoints(advertised, port, gateway, listenOnAnyHostAddress: true);
                else
                    silo.ConfigureEndpoints(port, gateway, listenOnAnyHostAddress: true);
            }
            else if (args.Text("address") is { } address)
            {
                // One machine of the emulated cluster (scale): its own address in its own network
                // namespace; the primary is named by address and port.
                var own = ParseAddress(address, "address");
                var first = ParseAddress(args.Text("primary-address") ?? address, "primary-address");
                silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, serviceId))
                    .UseDevelopmentClustering(new IPEndPoint(first, primary))
                    .ConfigureEndpoints(own, port, gateway)
                    .AddMemoryGrainStorage(NeuralBasicsTrainingOptions.StorageName);
            }
            else
            {
                silo.UseLocalhostClustering(port, gateway, new IPEndPoint(IPAddress.Loopback, primary), serviceId, clusterId)
                    .AddMemoryGrainStorage(NeuralBasicsTrainingOptions.StorageName);
            }
            silo.AddNeuralBasicsTraining(Runs.Configure);
        });
        using var host = builder.Build();
        await host.StartAsync();
        Console.WriteLine("ready");

        var lifetime = host.Services.GetService(typeof(IHostApplicationLifetime)) as IHostApplicationLifetime;
        var stopping = Task.Delay(Timeout.Infinite, lifetime?.ApplicationStopping ?? CancellationToken.None);
        var stdinClosed = Task.Run(() => { while (Console.In.ReadLine() is not null) { } });
        await Task.WhenAny(stopping, stdinClosed).ContinueWith(_ => { });
        await host.StopAsync(TimeSpan.FromSeconds(10));
        return 0;
    }

    private static IPAddress ParseAddress(string text, string option) =>
        IPAddress.TryParse(text, out var address) ? address : throw new ArgumentException($"--{option} must be an IP address, not \"{text}\".");
}
