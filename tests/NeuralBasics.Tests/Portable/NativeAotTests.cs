using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace NeuralBasics.Tests.Portable;

/// <summary>
/// Native AOT: the packages are AOT-compatible (their builds run the trim and AOT analyzers, and
/// warnings are errors), and <c>samples/NeuralBasics.Aot</c> — CSV, training with a checkpoint,
/// resume, save, load, one-row prediction, ONNX export — published with <c>PublishAot</c> prints
/// exactly what the JIT build prints at the same vector width. The package's buildTransitive
/// targets give an x64 AOT publish the x86-64-v3 instruction set, so it runs the 256-bit kernels,
/// not the 128-bit ones of the default AOT target.
/// </summary>
public sealed class NativeAotTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("neuralbasics-aot-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void TheAotSample_PrintsWhatTheJitBuildPrints_AtTheWidthItChose_AndNotThe128BitOne()
    {
        // An x64 that can run x86-64-v3 code (the AOT default the package sets); elsewhere there is nothing to compare.
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64 || !Avx2.IsSupported || !Fma.IsSupported || !OperatingSystem.IsLinux())
            return;
        string root = TestProcess.RepositoryRoot();
        string app = Path.Combine(_folder, "app");
        TestProcess.RunProgram("dotnet", ["publish", Path.Combine(root, "samples", "NeuralBasics.Aot", "NeuralBasics.Aot.csproj"), "-c", "Release", "-r", "linux-x64",
            "--artifacts-path", Path.Combine(_folder, "artifacts"), "-o", app], [], TimeSpan.FromMinutes(8));
        string[] aot = TestProcess.RunProgram(Path.Combine(app, "NeuralBasics.Aot"), [Path.Combine(_folder, "aot")], [], TimeSpan.FromMinutes(2));
        Assert.Contains("vectors 256 bits", aot[0]);
        Assert.DoesNotContain("WARNING", aot[0]);

        string jitBuild = Path.Combine(root, "samples", "NeuralBasics.Aot", "bin", "Release", "net10.0", "NeuralBasics.Aot.dll");
        Assert.True(File.Exists(jitBuild), $"{jitBuild} is not built: build the solution first.");
        string[] jit = TestProcess.RunProgram("dotnet", [jitBuild, Path.Combine(_folder, "jit")], [new("DOTNET_EnableAVX512", "0")], TimeSpan.FromMinutes(2));
        string[] Compared(string[] lines) => [.. lines.Skip(1).Where(line => !line.StartsWith("time:", StringComparison.Ordinal))];
        Assert.Equal(4, Compared(aot).Length);
        Assert.Equal(Compared(jit), Compared(aot));
    }

    /// <summary>
    /// Trimming without AOT: the same sample published self-contained with <c>PublishTrimmed</c>
    /// (ILLink removes what nothing reaches; its warnings are errors) prints exactly what the JIT
    /// build prints — it is the same JIT, at the same width.
    /// </summary>
    [Fact]
    public void TheTrimmedSample_PrintsWhatTheJitBuildPrints()
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64 || !OperatingSystem.IsLinux())
            return;
        string root = TestProcess.RepositoryRoot();
        string app = Path.Combine(_folder, "trimmed");
        TestProcess.RunProgram("dotnet", ["publish", Path.Combine(root, "samples", "NeuralBasics.Aot", "NeuralBasics.Aot.csproj"), "-c", "Release", "-r", "linux-x64",
            "-p:PublishAot=false", "-p:PublishTrimmed=true", "--self-contained", "true",
            "--artifacts-path", Path.Combine(_folder, "trimmed-artifacts"), "-o", app], [], TimeSpan.FromMinutes(8));
        // What nothing reaches is gone: System.Xml among some 130 assemblies of the shared framework.
        Assert.False(File.Exists(Path.Combine(app, "System.Xml.dll")));
        string[] trimmed = TestProcess.RunProgram(Path.Combine(app, "NeuralBasics.Aot"), [Path.Combine(_folder, "trimmed-run")], [], TimeSpan.FromMinutes(2));

        string jitBuild = Path.Combine(root, "samples", "NeuralBasics.Aot", "bin", "Release", "net10.0", "NeuralBasics.Aot.dll");
        Assert.True(File.Exists(jitBuild), $"{jitBuild} is not built: build the solution first.");
        string[] jit = TestProcess.RunProgram("dotnet", [jitBuild, Path.Combine(_folder, "jit-native")], [], TimeSpan.FromMinutes(2));
        // The first line names the process (the app host or dotnet) before the width and kernel they share.
        Assert.Equal(jit[0][jit[0].IndexOf(", ", StringComparison.Ordinal)..], trimmed[0][trimmed[0].IndexOf(", ", StringComparison.Ordinal)..]);
        string[] Compared(string[] lines) => [.. lines.Skip(1).Where(line => !line.StartsWith("time:", StringComparison.Ordinal))];
        Assert.Equal(4, Compared(trimmed).Length);
        Assert.Equal(Compared(jit), Compared(trimmed));
    }

    /// <summary>The 128-bit kernels on a processor with AVX2 are named as the cliff they are; at full width, nothing is said.</summary>
    [Fact]
    public void Running128BitKernelsOnAnAvx2Processor_IsWarnedAbout()
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64 || !Avx2.IsSupported)
            return;
        Assert.Null(NeuralBasics.Kernels.ProcessorInfo.VectorWarning);
        string narrow = TestProcess.Run("describe", [new("DOTNET_EnableAVX2", "0")]);
        Assert.Contains("vectors 128 bits", narrow);
        Assert.Contains("WARNING: This processor has AVX2", narrow);
        Assert.DoesNotContain("WARNING", TestProcess.Run("describe", []));
    }
}
