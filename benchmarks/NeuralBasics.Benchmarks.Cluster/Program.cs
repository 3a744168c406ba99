using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using NeuralBasics.Benchmarks.Cluster;

// What one exchange with the shared state costs over a real network stack: the MLP 784-256-10's
// 203,530 floats (814 KB) fetched from, pushed to and exchanged with the grains of a two-silo
// Orleans cluster over TCP on 127.0.0.1, and the serialization of that message alone.
var config = DefaultConfig.Instance
    .AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(15).AsDefault())
    .AddDiagnoser(MemoryDiagnoser.Default)
    .WithOptions(ConfigOptions.JoinSummary);
Console.WriteLine($"NeuralBasics exchanges on: {NeuralBasics.Kernels.ProcessorInfo.Describe()}");
BenchmarkSwitcher.FromTypes([typeof(ExchangeBenchmarks), typeof(PeerExchangeBenchmarks), typeof(DownpourStepBenchmarks), typeof(SerializationBenchmarks)]).Run(args, config);
