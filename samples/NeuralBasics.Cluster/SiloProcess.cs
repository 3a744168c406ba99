using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NeuralBasics.Orleans;

namespace NeuralBasics.Cluster;

/// <summary>
/// One silo of a localhost cluster: <c>silo --port 11111 --gateway 30000 [--primary 11111]</c>. The
/// first silo is the primary (it holds the development membership table); the others name its port.
/// Grain state lives in Orleans' memory storage, held by storage grains spread over the silos: good
/// for a demonstration on one machine, not durable across machines (see the README's "Training
/// across machines" for the ADO.NET configuration). Prints "ready" when it accepts clients and stops
/// gracefully when its standard input closes or it receives SIGTERM / Ctrl+C.
/// </summary>
internal static class SiloProcess
{
    public static async Task<int> RunAsync(Arguments args)
    {
        int port = args.Number("port");
        int gateway = args.Number("gateway");
        int primary = args.Number("primary", port);
        string clusterId = args.Text("cluster-id") ?? "neuralbasics-sample";
        string serviceId = args.Text("service-id") ?? "neuralbasics";

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(port, gateway, new IPEndPoint(IPAddress.Loopback, primary), serviceId, clusterId)
            .AddMemoryGrainStorage(NeuralBasicsTrainingOptions.StorageName)
            .AddNeuralBasicsTraining(Runs.Configure));
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
}
