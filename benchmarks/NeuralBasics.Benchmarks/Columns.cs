using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace NeuralBasics.Benchmarks;

/// <summary>Floating-point throughput of a case: its operation count over its median time.</summary>
public sealed class GflopsColumn : IColumn
{
    public string Id => nameof(GflopsColumn);
    public string ColumnName => "GFLOP/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Floating-point operations per second, in billions: 2·m·n·k (or the FMA count for the peak) over the median time";

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? gflops = Gflops(summary, benchmarkCase);
        return gflops is { } g ? g.ToString("F1") : "-";
    }

    /// <summary>The case's GFLOP/s, or null when it has no result or no known operation count.</summary>
    public static double? Gflops(Summary summary, BenchmarkCase benchmarkCase)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        double? flops = Flops(benchmarkCase);
        if (stats is null || flops is null || stats.Median <= 0)
            return null;
        return flops / stats.Median; // flops per nanosecond = GFLOP/s
    }

    private static double? Flops(BenchmarkCase benchmarkCase)
    {
        foreach (var parameter in benchmarkCase.Parameters.Items)
            if (parameter.Value is IHasFlops counted)
                return counted.Flops;
        if (benchmarkCase.Descriptor.Type == typeof(PeakBenchmarks))
        {
            int threads = (int)benchmarkCase.Parameters["Threads"];
            return PeakBenchmarks.FlopsPerThread * (threads == 0 ? Environment.ProcessorCount : threads);
        }
        return null;
    }

    public override string ToString() => ColumnName;
}

/// <summary>A case's GFLOP/s as a percentage of the one-thread FMA peak measured in the same run.</summary>
public sealed class PercentOfPeakColumn : IColumn
{
    public string Id => nameof(PercentOfPeakColumn);
    public string ColumnName => "% of 1T peak";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 1;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "GFLOP/s as a percentage of PeakBenchmarks.PeakFma on one thread, from the same run (needs --join)";

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var peakCase = summary.BenchmarksCases.FirstOrDefault(c =>
            c.Descriptor.Type == typeof(PeakBenchmarks) && (int)c.Parameters["Threads"] == 1);
        double? peak = peakCase is null ? null : GflopsColumn.Gflops(summary, peakCase);
        double? value = GflopsColumn.Gflops(summary, benchmarkCase);
        return peak is > 0 && value is { } v ? (100 * v / peak.Value).ToString("F0") + "%" : "-";
    }

    public override string ToString() => ColumnName;
}

/// <summary>Samples processed per second, for benchmarks that declare a <c>BatchSize</c> constant.</summary>
public sealed class SamplesPerSecondColumn : IColumn
{
    public string Id => nameof(SamplesPerSecondColumn);
    public string ColumnName => "samples/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 2;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Training samples per second: the batch size over the median time of one step";

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var field = benchmarkCase.Descriptor.Type.GetField("BatchSize");
        var stats = summary[benchmarkCase]?.ResultStatistics;
        if (field?.GetValue(null) is not int batch || stats is null || stats.Median <= 0)
            return "-";
        return (batch / (stats.Median * 1e-9)).ToString("N0");
    }

    public override string ToString() => ColumnName;
}
