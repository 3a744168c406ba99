using NeuralBasics.Cluster;

namespace NeuralBasics.Orleans.Tests;

/// <summary>
/// The one-command cluster sample, run as a newcomer would (on the committed subset, two epochs):
/// it starts two silo processes with localhost clustering and two worker processes per mode; and
/// its emulated cluster on rate-limited links in network namespaces.
/// </summary>
public sealed class ClusterSampleTests
{
    [Fact(Timeout = 240_000)]
    public async Task TheClusterSample_TrainsEveryModeAcrossProcesses_AndSynchronousMatchesTheThreadedRun()
    {
        string subset = Path.Combine(AppContext.BaseDirectory, "TestData", "fashion-mnist-subset");
        string plot = Path.Combine(Path.GetTempPath(), $"neuralbasics-cluster-{Guid.NewGuid():N}.png");
        try
        {
            var (lines, _, _) = await RunSampleAsync("cluster sample", "--data", subset, "--epochs", "2", "--plot", plot);

            // | mode | where | samples/s | bytes per step | messages | test accuracy | wall-clock |
            var rows = TableRows(lines, "| mode").ToDictionary(c => (c[0], c[1]));
            Assert.Equal(6, rows.Count);
            foreach (string mode in new[] { "downpour", "easgd", "sync" })
            {
                var (threads, processes) = (rows[(mode, "threads")], rows[(mode, "processes")]);
                // The same messages and bytes per step whether the workers are threads or processes.
                Assert.Equal(threads[3], processes[3]);
                Assert.Equal(threads[4], processes[4]);
                double accuracy = double.Parse(processes[5].TrimEnd('%', ' '), System.Globalization.CultureInfo.InvariantCulture);
                Assert.InRange(accuracy, 55, 100);
            }
            // Synchronous training sums the gradients in worker order: processes and threads give the same model.
            Assert.Equal(rows[("sync", "threads")][5], rows[("sync", "processes")][5]);
            Assert.True(new FileInfo(plot).Length > 10_000, "no plot written");
        }
        finally
        {
            File.Delete(plot);
        }
    }

    /// <summary>
    /// <c>scale</c> on two machines with 50 Mbit/s links: every setup runs, no setup beats its link
    /// (the filters are in force), the busiest link carries the bytes the model says, and the
    /// namespaces are gone afterwards. Needs root and iproute2; without them the test has nothing to
    /// run, unless <c>NEURALBASICS_NETNS=1</c> (set by <c>.ci/run</c> when it can create a namespace)
    /// demands it.
    /// </summary>
    [Fact(Timeout = 300_000)]
    public async Task TheEmulatedCluster_KeepsEveryModeWithinItsLinks_AndRemovesItsNamespaces()
    {
        if (EmulatedNetwork.Unavailable() is { } reason)
        {
            Assert.False(Environment.GetEnvironmentVariable("NEURALBASICS_NETNS") == "1", $"NEURALBASICS_NETNS=1 but: {reason}");
            return;
        }
        string subset = Path.Combine(AppContext.BaseDirectory, "TestData", "fashion-mnist-subset");
        var (lines, output, processId) = await RunSampleAsync("scale sample",
            "scale", "--data", subset, "--machines", "2", "--link-mbit", "50", "--rows-per-worker", "512", "--epochs", "1");

        // | setup | samples/s | link-bound model | measured/model | busiest link per round | model | all links sent | wall-clock |
        var rows = TableRows(lines, "| setup").ToArray();
        Assert.Equal(7, rows.Length);
        static double Number(string cell) => double.Parse(cell.Split(' ')[0].Replace(",", ""), System.Globalization.CultureInfo.InvariantCulture);
        foreach (var row in rows)
        {
            // A 50 Mbit/s link cannot be beaten (headers make the real bound lower still) ...
            Assert.True(Number(row[1]) <= 1.05 * Number(row[2]), $"{row[0]}: {row[1]} samples/s beat the link-bound {row[2]}");
            // ... and the kernel's byte counts agree with the model's (headers and each worker's start add some).
            double ratio = Number(row[4]) / Number(row[5]);
            Assert.True(ratio is >= 0.9 and <= 1.8, $"{row[0]}: the busiest link carried {row[4]} per round, the model says {row[5]}{Environment.NewLine}{output}");
        }
        Assert.Contains(lines, l => l.StartsWith("Downpour, 2 shards against 1: ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Downpour, 2 shards, overlapped against awaited: ", StringComparison.Ordinal));
        var namespaces = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("ip", "netns list") { RedirectStandardOutput = true })!;
        string left = await namespaces.StandardOutput.ReadToEndAsync();
        await namespaces.WaitForExitAsync();
        Assert.DoesNotContain($"nb{processId}-", left);
    }

    /// <summary>Runs the sample with <paramref name="arguments"/> to its end; fails unless it exits with 0. Returns its lines, them joined, and its process id.</summary>
    private static async Task<(List<string> Lines, string Output, int ProcessId)> RunSampleAsync(string name, params string[] arguments)
    {
        await using var sample = ClusterProcess.StartProgram(name, typeof(ClusterProcess).Assembly.Location, arguments);
        var lines = new List<string>();
        await foreach (string line in sample.Lines.ReadAllAsync())
            lines.Add(line);
        await sample.WaitForExitAsync();
        string output = string.Join(Environment.NewLine, lines);
        Assert.True(sample.ExitCode == 0, $"exit code {sample.ExitCode}{Environment.NewLine}{output}{Environment.NewLine}{sample.Errors}");
        return (lines, output, sample.Id);
    }

    /// <summary>The cells of a printed markdown table's rows, without its header (the row starting <paramref name="header"/>) and rule.</summary>
    private static IEnumerable<string[]> TableRows(IEnumerable<string> lines, string header) =>
        lines.Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith(header, StringComparison.Ordinal))
            .Select(l => l.Split('|', StringSplitOptions.TrimEntries)[1..^1]);
}
