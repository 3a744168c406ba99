using System.Globalization;
using System.Runtime.InteropServices;
using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Tests.Training;
using NeuralBasics.Training;

namespace NeuralBasics.Tests.Portable;

/// <summary>
/// The Arm64 code paths (the 12-row 128-bit kernel, AdvSimd through Vector128, NEON's fused
/// multiply-add) run from x64: the test assembly is published self-contained for <c>linux-arm64</c>
/// and run under qemu-user (<c>qemu-aarch64-static -L /usr/aarch64-linux-gnu</c>, Debian packages
/// <c>qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross</c>, which <c>.ci/run</c> installs):
/// every kernel against its scalar reference (<see cref="PortableChecks"/>), the golden runs
/// against their pinned Arm64 hashes, and a model saved here loaded there with the same scores.
/// Speed under emulation means nothing and is not looked at.
/// </summary>
/// <remarks>
/// Without qemu the test has nothing to run and says so, unless <c>NEURALBASICS_ARM64=1</c> (set by
/// <c>.ci/run</c> once qemu is installed) demands it. By hand: <c>NEURALBASICS_ARM64=1 dotnet test
/// tests/NeuralBasics.Tests -c Release --filter Arm64</c>.
/// </remarks>
public sealed class Arm64Tests : IDisposable
{
    private const string Sysroot = "/usr/aarch64-linux-gnu";
    private readonly string _folder = Directory.CreateTempSubdirectory("neuralbasics-arm64-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void UnderQemu_KernelsMatchReferences_GoldenRunsTheirArm64Hashes_AndAnX64ModelItsScores()
    {
        string? qemu = new[] { "/usr/bin/qemu-aarch64-static", "/usr/bin/qemu-aarch64" }.FirstOrDefault(File.Exists);
        if (qemu is null || !File.Exists(Path.Combine(Sysroot, "lib", "ld-linux-aarch64.so.1")) || RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            Assert.False(Environment.GetEnvironmentVariable("NEURALBASICS_ARM64") == "1",
                "NEURALBASICS_ARM64=1 but qemu-aarch64-static or the arm64 C library is missing: apt-get install qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross");
            return;
        }

        string app = Path.Combine(_folder, "app");
        string project = Path.Combine(TestProcess.RepositoryRoot(), "tests", "NeuralBasics.Tests", "NeuralBasics.Tests.csproj");
        TestProcess.RunProgram("dotnet", ["publish", project, "-c", "Release", "-r", "linux-arm64", "--self-contained", "-p:UseAppHost=true",
            "-p:InvariantGlobalization=true", "--artifacts-path", Path.Combine(_folder, "artifacts"), "-o", app], [], TimeSpan.FromMinutes(8));
        string[] Arm64(params string[] arguments) =>
            TestProcess.RunProgram(qemu, ["-L", Sysroot, Path.Combine(app, "NeuralBasics.Tests"), .. arguments], [], TimeSpan.FromMinutes(5));

        Assert.Matches(@"^portable \d+ checks passed$", Arm64("portable").Single());

        string[] golden = Arm64("golden");
        Assert.Equal("width arm64", golden[0]);
        var pinned = GoldenRunTests.Runs().ToDictionary(row => (string)row[0], row => (string)row[4]);
        Assert.Equal(GoldenRuns.Names.Count, golden.Length - 1);
        foreach (string line in golden.Skip(1))
        {
            string[] parts = line.Split(' ');
            Assert.True(pinned[parts[0]] == parts[1], $"{parts[0]} on Arm64: hash {parts[1]}, pinned {pinned[parts[0]]}");
        }

        // A model trained and saved on x64 gives the same scores on Arm64, to rounding.
        var data = SyntheticData.Blobs<float>(40, 4, 12, seed: 3);
        var model = new Trainer<float>(new NetworkBuilder<float>(12, seed: 1).Dense(32, new Relu()).Maxout(8, pieces: 3).Dense(4).Build(),
            SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.01), new TrainerOptions { Epochs = 3, BatchSize = 16, Seed = 2 }).Train(data).Model;
        string path = Path.Combine(_folder, "x64.safetensors");
        model.Save(path);
        float[] here = [.. PortableChecks.Predict(path).Select(v => float.Parse(v, CultureInfo.InvariantCulture))];
        float[] there = [.. Arm64("predict", path).Select(v => float.Parse(v, CultureInfo.InvariantCulture))];
        Assert.Equal(here.Length, there.Length);
        for (int i = 0; i < here.Length; i++)
            Assert.True(Math.Abs(here[i] - there[i]) <= 1e-5f * Math.Max(1, Math.Abs(here[i])), $"score {i}: x64 {here[i]}, Arm64 {there[i]}");
    }
}
