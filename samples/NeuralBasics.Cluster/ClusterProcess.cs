using System.Diagnostics;
using System.Threading.Channels;

namespace NeuralBasics.Cluster;

/// <summary>
/// A silo or worker started as a process of this same program. Its standard output arrives line by
/// line through <see cref="Lines"/>; the last lines of its standard error are kept for messages.
/// </summary>
internal sealed class ClusterProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly Queue<string> _errors = new();

    private ClusterProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Standard output, line by line; completed when the process closes it.</summary>
    public ChannelReader<string> Lines => _lines.Reader;

    /// <summary>The last lines the process wrote to standard error.</summary>
    public string Errors
    {
        get { lock (_errors) return string.Join(Environment.NewLine, _errors); }
    }

    /// <summary>Starts <c>this-program role arguments…</c>.</summary>
    public static ClusterProcess Start(string name, params string[] arguments) => StartProgram(name, program: null, arguments);

    /// <summary>Starts <c>this-program role arguments…</c> inside the network namespace <paramref name="networkNamespace"/> (<c>ip netns exec</c>, as root).</summary>
    public static ClusterProcess StartIn(string networkNamespace, string name, params string[] arguments) =>
        Launch(name, program: null, arguments, networkNamespace);

    /// <summary>
    /// Starts <paramref name="program"/> (this program's assembly, from another process such as a
    /// test) through <c>dotnet</c>, or this program itself when null.
    /// </summary>
    public static ClusterProcess StartProgram(string name, string? program, params string[] arguments) => Launch(name, program, arguments, networkNamespace: null);

    private static ClusterProcess Launch(string name, string? program, string[] arguments, string? networkNamespace)
    {
        var info = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        // Run the same way this process runs: through its apphost, or through "dotnet program.dll".
        string self = program is null ? Environment.ProcessPath ?? "dotnet" : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        if (networkNamespace is not null)
        {
            // "ip netns exec" replaces itself with the program, so the process is the program's.
            info.FileName = "ip";
            foreach (string word in (string[])["netns", "exec", networkNamespace, self])
                info.ArgumentList.Add(word);
        }
        else
        {
            info.FileName = self;
        }
        if (program is not null)
            info.ArgumentList.Add(program);
        else if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            info.ArgumentList.Add(typeof(ClusterProcess).Assembly.Location);
        foreach (string argument in arguments)
            info.ArgumentList.Add(argument);

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var started = new ClusterProcess(name, process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                started._lines.Writer.TryComplete();
            else
                started._lines.Writer.TryWrite(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (started._errors)
            {
                started._errors.Enqueue(e.Data);
                if (started._errors.Count > 20)
                    started._errors.Dequeue();
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return started;
    }

    /// <summary>Waits for a line equal to <paramref name="expected"/>; fails with the process's errors if it exits or the time passes first.</summary>
    public async Task WaitForLineAsync(string expected, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await foreach (string line in Lines.ReadAllAsync(cancel.Token))
                if (line == expected)
                    return;
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name} did not say \"{expected}\" within {timeout.TotalSeconds:F0} s.{Environment.NewLine}{Errors}");
        }
        throw new InvalidOperationException($"{Name} ended before saying \"{expected}\".{Environment.NewLine}{Errors}");
    }

    public Task WaitForExitAsync(CancellationToken cancellationToken = default) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>Writes a line to the process's standard input.</summary>
    public async Task SendLineAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Ends the process at once, as a crash or a lost machine would.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
    }

    /// <summary>Asks the process to stop (its standard input closes), and kills it if it has not within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process.HasExited)
            return;
        try
        {
            _process.StandardInput.Close();
            await _process.WaitForExitAsync().WaitAsync(grace);
        }
        catch (Exception e) when (e is TimeoutException or IOException or InvalidOperationException)
        {
            Kill();
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(15));
        _process.Dispose();
    }
}
