using NeuralBasics.Cluster;

namespace NeuralBasics.Orleans.Tests;

/// <summary>
/// The one-command cluster sample, run as a newcomer would (on the committed subset, two epochs):
/// it starts two silo processes with localhost clustering and two worker processes per mode.
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
            await using var sample = ClusterProcess.StartProgram("cluster sample", typeof(ClusterProcess).Assembly.Location,
                "--data", subset, "--epochs", "2", "--plot", plot);
            var lines = new List<string>();
            await foreach (string line in sample.Lines.ReadAllAsync())
                lines.Add(line);
            await sample.WaitForExitAsync();
            string output = string.Join(Environment.NewLine, lines);
            Assert.True(sample.ExitCode == 0, $"exit code {sample.ExitCode}{Environment.NewLine}{output}{Environment.NewLine}{sample.Errors}");

            // | mode | where | samples/s | bytes per step | messages | test accuracy | wall-clock |
            var rows = lines.Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| mode", StringComparison.Ordinal))
                .Select(l => l.Split('|', StringSplitOptions.TrimEntries)[1..^1]).ToDictionary(c => (c[0], c[1]));
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
}
