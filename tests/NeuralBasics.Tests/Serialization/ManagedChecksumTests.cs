using System.Security.Cryptography;
using System.Text;
using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Models;
using NeuralBasics.Optimizers;
using NeuralBasics.Serialization;
using NeuralBasics.Training;

namespace NeuralBasics.Tests.Serialization;

/// <summary>The checksums are managed code: saving and loading need no OpenSSL.</summary>
public sealed class ManagedChecksumTests
{
    /// <summary>The FIPS 180-4 examples, and one million 'a's.</summary>
    [Theory]
    [InlineData("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")]
    public void ManagedSha256_GivesTheStandardsDigests(string message, string digest)
    {
        var hash = new Sha256();
        hash.Append(Encoding.ASCII.GetBytes(message));
        Assert.Equal(digest, Convert.ToHexStringLower(hash.GetHashAndReset()));
        for (int i = 0; i < 1_000_000 / 1000; i++)
            hash.Append(Encoding.ASCII.GetBytes(new string('a', 1000)));
        Assert.Equal("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    /// <summary>Every length around the block and padding edges, appended in uneven pieces, against .NET's own SHA-256.</summary>
    [Fact]
    public void ManagedSha256_MatchesDotNets_AtEveryLengthAndSplit()
    {
        var random = new Random(5);
        var hash = new Sha256();
        for (int length = 0; length <= 300; length++)
        {
            byte[] data = new byte[length];
            random.NextBytes(data);
            int at = 0;
            while (at < length)
            {
                int piece = Math.Min(length - at, random.Next(1, 80));
                hash.Append(data.AsSpan(at, piece));
                at += piece;
            }
            Assert.Equal(SHA256.HashData(data), hash.GetHashAndReset());
        }
    }

    /// <summary>
    /// A fresh process that trains, checkpoints, resumes, saves and loads (new files and a file with
    /// a SHA-256 checksum) never maps OpenSSL's library; one that calls .NET's own SHA-256 does (the
    /// control: the check would see it).
    /// </summary>
    [Fact]
    public void SavingAndLoading_NeverLoadOpenSsl()
    {
        if (!OperatingSystem.IsLinux())
            return;
        Assert.Equal("openssl True", TestProcess.Run("sha256", []).Trim());
        Assert.Equal("openssl False", TestProcess.Run("files", []).Trim());
    }

    /// <summary>Whether this process has mapped OpenSSL's libcrypto or .NET's shim to it.</summary>
    internal static bool OpenSslLoaded() =>
        File.ReadLines("/proc/self/maps").Any(line => line.Contains("libcrypto", StringComparison.Ordinal)
            || line.Contains("Cryptography.Native.OpenSsl", StringComparison.Ordinal));

    /// <summary>What <see cref="SavingAndLoading_NeverLoadOpenSsl"/> runs in its child process.</summary>
    internal static void SaveAndLoadEverything()
    {
        string folder = Directory.CreateTempSubdirectory("neuralbasics-files-").FullName;
        try
        {
            var data = SyntheticData.Blobs<float>(30, 3, 4, seed: 1);
            // Enough tensors (a checkpoint of 8 weights and their 16 Adam moments) that System.Text.Json's
            // own duplicate-key check would switch to a randomly seeded set, which loads OpenSSL.
            static Sequential<float> Net() => new NetworkBuilder<float>(4, seed: 2).Dense(8, new Relu()).Dense(8, new Tanh()).Dense(6, new Relu()).Dense(3).Build();
            var net = Net();
            string checkpoint = Path.Combine(folder, "run.safetensors");
            var model = new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.01),
                new TrainerOptions { Epochs = 2, BatchSize = 16, CheckpointPath = checkpoint }).Train(data).Model;
            new Trainer<float>(Net(), SoftmaxCrossEntropyLoss.Instance, null,
                new Adam(0.01), new TrainerOptions { Epochs = 3, BatchSize = 16, CheckpointPath = checkpoint }).Resume(checkpoint, data);
            string path = Path.Combine(folder, "model.safetensors");
            model.Save(path);
            var loaded = Classifier<float>.Load(path);
            if (!loaded.Scores(data.Features).Span.SequenceEqual(model.Scores(data.Features).Span))
                throw new InvalidOperationException("The loaded model scores differently.");
            // A file written with a SHA-256 checksum (format version 2).
            Classifier<float>.Load(Path.Combine(AppContext.BaseDirectory, "TestData", "formats", "model-every-layer-2026-12.safetensors"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
