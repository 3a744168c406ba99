using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NeuralBasics.Optimizers;
using NeuralBasics.Orleans;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Cluster;

/// <summary>
/// What every process of the demonstration agrees on: the runs' names and settings. Silos need the
/// parameter server's rule (it runs there); workers need the rest.
/// </summary>
internal static class Runs
{
    /// <summary>The Orleans cluster id silos and clients use unless told otherwise.</summary>
    public const string ClusterId = "neuralbasics-sample";

    /// <summary>The Orleans service id silos and clients use unless told otherwise.</summary>
    public const string ServiceId = "neuralbasics";

    public const string Downpour = "downpour";
    public const string Easgd = "easgd";
    public const string Synchronous = "sync";

    /// <summary>Adam's learning rate, for the server's rule (Downpour) and the workers' (EASGD, synchronous).</summary>
    public const double LearningRate = 1e-3;

    /// <summary>The server writes its state to grain storage after this many updates.</summary>
    public const int PersistEvery = 100;

    /// <summary>Orleans' own log, warnings and worse, to standard error: standard output is the process's report.</summary>
    public static void QuietLogging(HostApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning);
    }

    public static void Configure(NeuralBasicsTrainingOptions options)
    {
        options.AddParameterServer(Downpour, new Adam(LearningRate), persistEvery: PersistEvery);
        options.CenterPersistEvery = PersistEvery;
    }

    public static DownpourOptions DownpourOptions(int epochs, int batch) =>
        new() { Epochs = epochs, BatchSize = batch, FetchEvery = 2, PushEvery = 1, Seed = 1 };

    public static ElasticAveragingOptions EasgdOptions(int epochs, int batch) =>
        new() { Epochs = epochs, BatchSize = batch, Tau = 4, Alpha = 0.3, Seed = 1 };

    public static SynchronousOptions SynchronousOptions(int epochs, int batch) =>
        new() { Epochs = epochs, BatchSize = batch, Seed = 1 };
}
