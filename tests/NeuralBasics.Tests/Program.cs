using NeuralBasics.Tests.Training;

namespace NeuralBasics.Tests;

/// <summary>
/// The test assembly's own entry point, for the tests that need a second process with other runtime
/// settings (<see cref="TestProcess"/>): <c>dotnet NeuralBasics.Tests.dll golden</c> prints the vector
/// width (<see cref="GoldenRuns.Width"/>) and the hash of every golden run, one per line, so
/// <see cref="GoldenRunTests"/> can check the bits of the narrower vector widths
/// (<c>DOTNET_EnableAVX512=0</c>, <c>DOTNET_EnableAVX2=0</c>) from one test run; <c>kernels</c> runs
/// every GEMM micro-kernel once, for <see cref="Kernels.KernelCodeTests"/> to read the JIT's code;
/// <c>files</c> saves and loads a model and a checkpoint, and <c>sha256</c> hashes with .NET's own
/// SHA-256, for <see cref="Serialization.ManagedChecksumTests"/> to run without OpenSSL.
/// The test runner loads the assembly as a library and never calls this.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["kernels"])
        {
            Kernels.KernelCodeTests.RunEveryKernel();
            return 0;
        }
        if (args is ["describe"])
        {
            Console.WriteLine(NeuralBasics.Kernels.ProcessorInfo.Describe());
            return 0;
        }
        if (args is ["portable"])
        {
            Console.WriteLine($"portable {Portable.PortableChecks.Run()} checks passed");
            return 0;
        }
        if (args is ["predict", var model])
        {
            foreach (string line in Portable.PortableChecks.Predict(model))
                Console.WriteLine(line);
            return 0;
        }
        if (args is ["files"])
        {
            Serialization.ManagedChecksumTests.SaveAndLoadEverything();
            Console.WriteLine($"openssl {Serialization.ManagedChecksumTests.OpenSslLoaded()}");
            return 0;
        }
        if (args is ["sha256"])
        {
            _ = System.Security.Cryptography.SHA256.HashData("abc"u8);
            Console.WriteLine($"openssl {Serialization.ManagedChecksumTests.OpenSslLoaded()}");
            return 0;
        }
        if (args is not (["golden"] or ["golden", _]))
        {
            Console.Error.WriteLine("usage: dotnet NeuralBasics.Tests.dll golden [RUN]|kernels|portable|predict FILE|files|sha256|describe");
            return 2;
        }
        string folder = Directory.CreateTempSubdirectory("neuralbasics-golden-").FullName;
        try
        {
            Console.WriteLine($"width {GoldenRuns.Width}");
            foreach (string run in args is [_, var one] ? [one] : GoldenRuns.Names)
                Console.WriteLine($"{run} {GoldenRuns.Run(run, folder)}");
            return 0;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
