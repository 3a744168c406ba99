using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using NeuralBasics.Benchmarks;

// Every GEMM figure is read against the FMA peak of the same run: run the peak together with
// whatever you measure (the filters below keep it in), and join the summaries.
var config = DefaultConfig.Instance
    .AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(9).AsDefault())
    .AddDiagnoser(MemoryDiagnoser.Default)
    .AddColumn(new GflopsColumn(), new PercentOfPeakColumn(), new SamplesPerSecondColumn())
    .WithOptions(ConfigOptions.JoinSummary);

// Every figure names the processor it was measured on, and the caches the GEMM blocking was derived from.
Console.WriteLine($"NeuralBasics kernels on: {NeuralBasics.Kernels.ProcessorInfo.Describe()}");

BenchmarkSwitcher
    .FromTypes([typeof(PeakBenchmarks), typeof(GemmBenchmarks<>), typeof(NaiveGemmBenchmarks), typeof(TrainingBenchmarks), typeof(UpdateRuleBenchmarks), typeof(ServingBenchmarks), typeof(KernelThreadsBenchmarks), typeof(TableBenchmarks), typeof(ConvolutionBenchmarks)])
    .Run(args, config);
