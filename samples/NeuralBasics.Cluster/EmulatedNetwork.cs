using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace NeuralBasics.Cluster;

/// <summary>
/// N machines on one computer, each a Linux network namespace with its own address and a link of a
/// given rate to a switch: namespace <c>nb{pid}-m{i}</c> holds interface <c>m{i}</c>
/// (10.77.0.{i+1}/24), whose veth peer <c>h{i}</c> sits on the bridge of namespace <c>nb{pid}-hub</c>.
/// Both ends of every link have a token-bucket filter (<c>tc qdisc … tbf</c>) at the rate, so each
/// machine sends and receives at most that much, as over its own network card. Nothing is added
/// to the computer's own namespace; disposing deletes the namespaces and, with them, their links.
/// Needs root and iproute2 (<c>ip</c>, <c>tc</c>).
/// </summary>
internal sealed class EmulatedNetwork : IDisposable
{
    private readonly string _prefix = $"nb{Environment.ProcessId}";
    private readonly List<string> _namespaces = [];
    private bool _disposed;

    private EmulatedNetwork(int machines, double megabitsPerSecond)
    {
        Machines = machines;
        MegabitsPerSecond = megabitsPerSecond;
    }

    public int Machines { get; }

    public double MegabitsPerSecond { get; }

    /// <summary>The link rate in bytes per second.</summary>
    public double BytesPerSecond => MegabitsPerSecond * 1e6 / 8;

    private string Hub => $"{_prefix}-hub";

    /// <summary>Machine <paramref name="machine"/>'s network namespace.</summary>
    public string Namespace(int machine) => $"{_prefix}-m{machine}";

    /// <summary>Machine <paramref name="machine"/>'s address.</summary>
    public IPAddress Address(int machine) => IPAddress.Parse($"10.77.0.{machine + 1}");

    /// <summary>Why this process cannot build the network (not Linux, not root, no iproute2), or null when it can.</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux())
            return "The emulated network needs Linux network namespaces.";
        if (!Environment.IsPrivilegedProcess)
            return "The emulated network needs root (network namespaces and tc): run it with sudo.";
        try
        {
            Run("ip", "-V");
            Run("tc", "-V");
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return $"The emulated network needs iproute2 (ip and tc): sudo apt-get install iproute2. ({e.Message})";
        }
    }

    /// <summary>Builds the namespaces, links and rate limits; removes whatever it made if a step fails.</summary>
    public static EmulatedNetwork Create(int machines, double megabitsPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(machines, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(machines, 250);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(megabitsPerSecond);
        var network = new EmulatedNetwork(machines, megabitsPerSecond);
        try
        {
            network.Build();
            return network;
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    private void Build()
    {
        AddNamespace(Hub);
        Run("ip", "-n", Hub, "link", "add", "br0", "type", "bridge");
        Run("ip", "-n", Hub, "link", "set", "br0", "up");
        // The bucket holds at least 64 KB (a segment the kernel may hand over at once) or 2 ms at the rate.
        string rate = $"{MegabitsPerSecond.ToString(CultureInfo.InvariantCulture)}mbit";
        string burst = $"{Math.Max(64 * 1024, (int)(BytesPerSecond * 0.002))}";
        for (int i = 0; i < Machines; i++)
        {
            string machine = Namespace(i);
            AddNamespace(machine);
            Run("ip", "link", "add", $"m{i}", "netns", machine, "type", "veth", "peer", "name", $"h{i}", "netns", Hub);
            Run("ip", "-n", machine, "addr", "add", $"{Address(i)}/24", "dev", $"m{i}");
            Run("ip", "-n", machine, "link", "set", $"m{i}", "up");
            Run("ip", "-n", Hub, "link", "set", $"h{i}", "master", "br0");
            Run("ip", "-n", Hub, "link", "set", $"h{i}", "up");
            // Egress of the machine's end is its upload; egress of the switch's end, its download.
            Run("ip", "netns", "exec", machine, "tc", "qdisc", "add", "dev", $"m{i}", "root", "tbf", "rate", rate, "burst", burst, "latency", "200ms");
            Run("ip", "netns", "exec", Hub, "tc", "qdisc", "add", "dev", $"h{i}", "root", "tbf", "rate", rate, "burst", burst, "latency", "200ms");
        }
    }

    private void AddNamespace(string name)
    {
        Run("ip", "netns", "add", name);
        _namespaces.Add(name);
        Run("ip", "-n", name, "link", "set", "lo", "up");
    }

    /// <summary>Bytes each machine's link has carried so far: sent (upload) and received (download), counted by the kernel at the machine's end.</summary>
    public (long Sent, long Received)[] Counters()
    {
        var counters = new (long, long)[Machines];
        for (int i = 0; i < Machines; i++)
        {
            using var json = JsonDocument.Parse(Run("ip", "-n", Namespace(i), "-s", "-j", "link", "show", $"m{i}"));
            var stats = json.RootElement[0].GetProperty("stats64");
            counters[i] = (stats.GetProperty("tx").GetProperty("bytes").GetInt64(), stats.GetProperty("rx").GetProperty("bytes").GetInt64());
        }
        return counters;
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        // Deleting a namespace deletes the interfaces in it, and a veth goes with its peer.
        foreach (string name in Enumerable.Reverse(_namespaces))
        {
            try
            {
                Run("ip", "netns", "del", name);
            }
            catch (InvalidOperationException e)
            {
                Console.Error.WriteLine($"could not delete network namespace {name}: {e.Message}");
            }
        }
    }

    /// <summary>Runs a command, returns its standard output; throws with its error output when it fails.</summary>
    private static string Run(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
            info.ArgumentList.Add(argument);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{program} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        string error = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(30_000))
        {
            process.Kill();
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} did not finish within 30 s.");
        }
        return process.ExitCode == 0
            ? output.GetAwaiter().GetResult()
            : throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}): {error.Trim()}");
    }
}
