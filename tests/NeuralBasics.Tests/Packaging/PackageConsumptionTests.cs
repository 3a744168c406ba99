using System.Diagnostics;

namespace NeuralBasics.Tests.Packaging;

/// <summary>
/// The way users consume the library: pack it, then build and run a small console project that
/// references the package (not the project) from a local folder source, trains a model, saves,
/// loads and predicts.
/// </summary>
public sealed class PackageConsumptionTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("neuralbasics-package-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A build server may still hold a file for a moment; the temp folder is cleaned up eventually.
        }
    }

    private static (int ExitCode, string Output) Dotnet(string arguments, string workingDirectory, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {arguments} did not finish in 5 minutes.");
        }
        return (process.ExitCode, output.Result + error.Result);
    }

    [Fact]
    public void ThePdb_HoldsNoMachinePath_AndEmbedsEverySource()
    {
        string pdb = Path.Combine(AppContext.BaseDirectory, "NeuralBasics.pdb");
        using var stream = File.OpenRead(pdb);
        using var provider = System.Reflection.Metadata.MetadataReaderProvider.FromPortablePdbStream(stream);
        var reader = provider.GetMetadataReader();
        var embeddedSource = new Guid("0E8A571B-6926-466E-B4AD-8AB04611F5FE");
        string root = TestProcess.RepositoryRoot();
        int documents = 0;
        foreach (var handle in reader.Documents)
        {
            string name = reader.GetString(reader.GetDocument(handle).Name);
            if (!name.EndsWith(".cs", StringComparison.Ordinal))
                continue;
            documents++;
            Assert.StartsWith("/_/", name);
            Assert.DoesNotContain(root, name);
            bool embedded = reader.GetCustomDebugInformation(handle)
                .Any(h => reader.GetGuid(reader.GetCustomDebugInformation(h).Kind) == embeddedSource);
            Assert.True(embedded, $"{name} is not embedded in the PDB");
        }
        Assert.True(documents > 50, $"only {documents} source documents in the PDB");
    }

    [Fact]
    public void EveryPackedPackage_HasItsReadmeAndDocs_AndWorksInAConsumerProject()
    {
        string root = TestProcess.RepositoryRoot();
        string feed = Path.Combine(_folder, "feed");
        // A version of its own, so no earlier package in the NuGet cache can stand in for this one.
        string version = $"0.0.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        foreach (string package in new[] { "NeuralBasics", "NeuralBasics.Csv", "NeuralBasics.Onnx", "NeuralBasics.Orleans", "NeuralBasics.MLNet" })
        {
            var (packCode, packOutput) = Dotnet(
                $"pack \"{Path.Combine(root, "src", package, package + ".csproj")}\" -c Release -o \"{feed}\" -p:Version={version}", root);
            Assert.True(packCode == 0, packOutput);
            string nupkg = Path.Combine(feed, $"{package}.{version}.nupkg");
            Assert.True(File.Exists(nupkg), packOutput);
            Assert.True(File.Exists(Path.Combine(feed, $"{package}.{version}.snupkg")), "no symbols package: " + packOutput);
            using var archive = System.IO.Compression.ZipFile.OpenRead(nupkg);
            var entries = archive.Entries.Select(e => e.FullName).ToList();
            Assert.Contains("README.md", entries);
            Assert.Contains($"lib/net10.0/{package}.xml", entries);
            if (package == "NeuralBasics")
                Assert.Contains("buildTransitive/NeuralBasics.targets", entries);  // x86-64-v3 for an x64 Native AOT publish
            using var readme = new StreamReader(archive.GetEntry("README.md")!.Open());
            string text = readme.ReadToEnd();
            Assert.Contains($"# {package}", text);
            // Written for the package page: no relative links or images that would break there.
            Assert.DoesNotMatch(@"\]\((?!https?://)[^)]+\)", text);
        }

        string consumer = Path.Combine(_folder, "consumer");
        Directory.CreateDirectory(consumer);
        File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <PropertyGroup>
                <!-- OnnxSharp asks for a Google.Protobuf that may not be served (see NeuralBasics.Onnx's README). -->
                <NoWarn>$(NoWarn);NU1603</NoWarn>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="NeuralBasics" Version="{version}" />
                <PackageReference Include="NeuralBasics.Csv" Version="{version}" />
                <PackageReference Include="NeuralBasics.Onnx" Version="{version}" />
                <PackageReference Include="NeuralBasics.Orleans" Version="{version}" />
                <PackageReference Include="NeuralBasics.MLNet" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(consumer, "Program.cs"), """
            using NeuralBasics.Activations;
            using NeuralBasics.Data;
            using NeuralBasics.Layers;
            using NeuralBasics.Losses;
            using NeuralBasics.Models;
            using NeuralBasics.Optimizers;
            using NeuralBasics.Training;

            var data = SyntheticData.Spiral<float>(pointsPerClass: 100, classCount: 3, seed: 1);
            var net = new NetworkBuilder<float>(2, seed: 1).Dense(64, new Relu()).Dense(3).Build();
            var result = new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.01),
                new TrainerOptions { Epochs = 150, BatchSize = 32 }).Train(data);
            string path = Path.Combine(AppContext.BaseDirectory, "spiral.safetensors");
            result.Model.Save(path);
            var loaded = Classifier<float>.Load(path);
            double accuracy = loaded.Accuracy(data);
            bool same = loaded.Predict(data.Features).SequenceEqual(result.Model.Predict(data.Features));
            // The companions: a CSV read, an ONNX export, the Orleans client's retry policy.
            var csv = NeuralBasics.Csv.CsvDataSet.Parse<float>("label,x,y\n0,1,2\n1,3,4\n");
            using var onnx = new MemoryStream();
            NeuralBasics.Onnx.OnnxExport.Save(loaded, onnx);
            var retry = new NeuralBasics.Orleans.RetryPolicy { Attempts = 3 };
            var mlnet = new NeuralBasics.MLNet.NeuralBasicsTrainer(new Microsoft.ML.MLContext(seed: 1));
            Console.WriteLine($"accuracy {accuracy:F3}, identical predictions {same}, csv rows {csv.Count}, onnx bytes {onnx.Length > 1000}, retries {retry.Attempts}, ml.net label {mlnet.Options.LabelColumnName}");
            return accuracy >= 0.9 && same ? 0 : 1;
            """);

        var (runCode, runOutput) = Dotnet("run -c Release", consumer);
        Assert.True(runCode == 0, runOutput);
        Assert.Contains("identical predictions True, csv rows 2, onnx bytes True, retries 3, ml.net label Label", runOutput);
    }
}
