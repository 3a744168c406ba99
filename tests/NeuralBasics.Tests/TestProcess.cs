using System.Diagnostics;

namespace NeuralBasics.Tests;

/// <summary>
/// Child processes for the tests: the test assembly's own entry point (<see cref="Program"/>) with
/// other runtime settings (a narrower vector width, the JIT's disassembly switched on), and other
/// programs (dotnet publish, qemu, a native binary); and the repository root they are found from.
/// </summary>
internal static class TestProcess
{
    /// <summary>
    /// The x64 vector widths this processor can run, as the switches that select them: none for the
    /// widest, then <c>DOTNET_EnableAVX512=0</c> (AVX2), <c>DOTNET_EnableAVX2=0</c> (128-bit, VEX) and
    /// <c>DOTNET_EnableAVX=0</c> (128-bit, legacy SSE encoding). Empty off x64.
    /// </summary>
    public static IEnumerable<(string Name, string? Switch)> X64Widths()
    {
        if (System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
            yield break;
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
            yield return ("AVX-512", null);
        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
            yield return ("AVX2", System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "DOTNET_EnableAVX512" : null);
        if (System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated)
        {
            yield return ("128-bit VEX", System.Runtime.Intrinsics.X86.Avx2.IsSupported ? "DOTNET_EnableAVX2" : null);
            yield return ("128-bit SSE", System.Runtime.Intrinsics.X86.Avx.IsSupported ? "DOTNET_EnableAVX" : null);
        }
    }

    /// <summary>
    /// Runs <c>dotnet NeuralBasics.Tests.dll <paramref name="mode"/></c> with <paramref name="environment"/>
    /// and returns its standard output; fails the test on a non-zero exit, and kills it after two minutes.
    /// </summary>
    public static string Run(string mode, IEnumerable<KeyValuePair<string, string>> environment)
    {
        var (exitCode, output, error) = RunAny(mode, environment);
        string settings = string.Join(" ", environment.Select(e => $"{e.Key}={e.Value}"));
        Assert.True(exitCode == 0, $"'{mode}' with {settings} exited with {exitCode}: {error}");
        return output;
    }

    /// <summary>Runs the mode as <see cref="Run"/> does and returns its exit code, output and error, whatever they are.</summary>
    public static (int ExitCode, string Output, string Error) RunAny(string mode, IEnumerable<KeyValuePair<string, string>> environment) =>
        Start(DotNet(), [Path.Combine(AppContext.BaseDirectory, "NeuralBasics.Tests.dll"), mode], environment, TimeSpan.FromMinutes(2), AppContext.BaseDirectory);

    /// <summary>
    /// Runs <paramref name="program"/> (<c>dotnet</c> means the host running the tests) and returns its
    /// output's non-empty lines, trimmed; fails the test on a non-zero exit, and kills it after <paramref name="limit"/>.
    /// </summary>
    public static string[] RunProgram(string program, IEnumerable<string> arguments, IEnumerable<KeyValuePair<string, string>> environment, TimeSpan limit)
    {
        string[] argumentList = [.. arguments];
        var (exitCode, output, error) = Start(program == "dotnet" ? DotNet() : program, argumentList, environment, limit, null);
        Assert.True(exitCode == 0, $"{program} {string.Join(' ', argumentList)} exited with {exitCode}: {output}\n{error}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>The repository root: the folder above the test binaries that holds NeuralBasics.sln.</summary>
    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "NeuralBasics.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("The repository root (NeuralBasics.sln) was not found above the test binaries.");
    }

    private static string DotNet() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    private static (int ExitCode, string Output, string Error) Start(string program, IEnumerable<string> arguments,
        IEnumerable<KeyValuePair<string, string>> environment, TimeSpan limit, string? workingDirectory)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (workingDirectory is not null)
            start.WorkingDirectory = workingDirectory;
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (key, value) in environment)
            start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException(
                $"{program} {string.Join(' ', start.ArgumentList)} with {string.Join(" ", environment.Select(e => $"{e.Key}={e.Value}"))} did not finish in {limit}.");
        }
        return (process.ExitCode, output.Result, error.Result);
    }
}
