using System.Buffers.Binary;
using System.Text.Json.Nodes;
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

/// <summary>
/// Model and checkpoint files crafted as an attacker would: each must end in an
/// <see cref="InvalidDataException"/> that says what is wrong, allocate little while refusing,
/// and leave nothing half-built or half-restored.
/// </summary>
public sealed class HostileFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("neuralbasics-hostile-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A small trained 3-4-2 network's model file, as bytes.</summary>
    private byte[] GoodModel()
    {
        var data = SyntheticData.Blobs<float>(10, 2, 3, seed: 1);
        var net = new NetworkBuilder<float>(3, seed: 1).Dense(4, new Relu()).Dense(2).Build();
        var model = new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.01), new TrainerOptions { Epochs = 2 }).Train(data).Model;
        string path = Path.Combine(_folder, "good.safetensors");
        model.Save(path);
        return System.IO.File.ReadAllBytes(path);
    }

    private static string Header(byte[] file) => Encoding.UTF8.GetString(file, 8, (int)BinaryPrimitives.ReadUInt64LittleEndian(file));

    /// <summary>A safetensors file from a header written by hand and the data bytes.</summary>
    private static byte[] File(string header, byte[] data)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        var file = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)json.Length);
        json.CopyTo(file, 8);
        data.CopyTo(file, 8 + json.Length);
        return file;
    }

    private static byte[] Data(byte[] file) => file[(8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(file))..];

    /// <summary>The file with its header replaced and its data kept.</summary>
    private static byte[] WithHeader(byte[] file, string header) => File(header, Data(file));

    /// <summary>
    /// The file with its header edited as JSON (tensor entries and metadata), data kept, and its
    /// checksum dropped (and its format version set back to 1, from before checksums), so the checks
    /// behind it are reached.
    /// </summary>
    internal static byte[] Edited(byte[] file, Action<JsonObject> edit)
    {
        var header = JsonNode.Parse(Header(file))!.AsObject();
        header["__metadata__"]!.AsObject().Remove("checksum");
        header["__metadata__"]!["format_version"] = "1";
        edit(header);
        return WithHeader(file, header.ToJsonString());
    }

    private static InvalidDataException Refused(byte[] file, long allocationLimit = 4L << 20)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => ModelFile.Load<float>(file));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < allocationLimit, $"Refusing a {file.Length}-byte file allocated {allocated} bytes.");
        return e;
    }

    [Fact]
    public void TheGoodFile_Loads()
    {
        var model = ModelFile.Load<float>(GoodModel());
        Assert.Equal(2, model.ClassCount);
    }

    [Fact]
    public void RepeatedKeys_AreRefused_AsInvalidData()
    {
        byte[] good = GoodModel();
        string header = Header(good);
        // A repeated tensor name: the first entry again at the end of the header object.
        int first = header.IndexOf("\"0.W\"", StringComparison.Ordinal);
        int firstEnd = header.IndexOf('}', first) + 1;
        string repeatedTensor = header[..^1] + "," + header[first..firstEnd] + "}";
        Assert.Contains("repeats a key", Refused(WithHeader(good, repeatedTensor)).Message);
        // A repeated metadata key, and a second __metadata__.
        string repeatedMetadata = header.Replace("\"format\":", "\"format\":\"x\",\"format\":", StringComparison.Ordinal);
        Assert.Contains("repeats a key", Refused(WithHeader(good, repeatedMetadata)).Message);
        string secondMetadata = header[..^1] + ",\"__metadata__\":{}}";
        Assert.Contains("repeats a key", Refused(WithHeader(good, secondMetadata)).Message);
    }

    /// <summary>
    /// A key holding a lone UTF-16 surrogate escape makes System.Text.Json's duplicate check throw
    /// InvalidOperationException (found by AFL++ in the checkpoint target): it is invalid data.
    /// </summary>
    [Fact]
    public void ALoneSurrogateInAKey_IsInvalidData()
    {
        Assert.Throws<InvalidDataException>(() => SafeTensors.Read(File("{\"\\ud800\":{}}", [])));
        Assert.Throws<InvalidDataException>(() => SafeTensors.Read(File("{\"__metadata__\":{\"a\\udc00b\":\"x\"}}", [])));
        byte[] good = GoodModel();
        byte[] inArchitecture = Edited(good, h => h["__metadata__"]!["loss"] = "{\"\\ud800\":1,\"name\":\"softmax_cross_entropy\"}");
        Assert.Throws<InvalidDataException>(() => ModelFile.Load<float>(inArchitecture));
    }

    [Fact]
    public void OverlappingGappedOrStrayRanges_AreRefused()
    {
        // Two 2-float tensors over 16 bytes: fine; then sharing bytes, leaving a gap, or past the end.
        byte[] data = new byte[16];
        static string Two(long b1, long e1, long b2, long e2) =>
            $"{{\"a\":{{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[{b1},{e1}]}},\"b\":{{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[{b2},{e2}]}}}}";
        Assert.Equal(2, SafeTensors.Read(File(Two(0, 8, 8, 16), data)).Tensors.Count);
        Assert.Contains("overlaps", Assert.Throws<InvalidDataException>(() => SafeTensors.Read(File(Two(0, 8, 4, 12), data))).Message);
        Assert.Contains("overlaps", Assert.Throws<InvalidDataException>(() => SafeTensors.Read(File(Two(0, 8, 0, 8), new byte[8]))).Message);
        Assert.Contains("belong to no tensor", Assert.Throws<InvalidDataException>(() => SafeTensors.Read(File(Two(0, 8, 12, 20), new byte[20]))).Message);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => SafeTensors.Read(File(Two(0, 8, 8, 16), new byte[12]))).Message);
        Assert.Contains("offsets", Assert.Throws<InvalidDataException>(() => SafeTensors.Read(File(Two(0, 8, 8, 12), data))).Message);
    }

    [Theory]
    [InlineData("[65536, 65536, 65536]")]          // wraps a long's worth of bytes if multiplied blindly
    [InlineData("[2147483647, 2147483647]")]
    [InlineData("[-1, 4]")]
    [InlineData("[4294967297]")]                    // not an int
    [InlineData("[1,1,1,1,1,1,1,1,1,1]")]            // more dimensions than any tensor here
    public void ShapesBeyondTheLimits_AreRefused(string shape)
    {
        string header = $"{{\"t\":{{\"dtype\":\"F32\",\"shape\":{shape},\"data_offsets\":[0,0]}}}}";
        Assert.Throws<InvalidDataException>(() => SafeTensors.Read(File(header, [])));
    }

    /// <summary>
    /// A few hundred bytes of header that declare layers of billions of weights and carry no
    /// tensors: refused before any layer is built, allocating a small multiple of the file.
    /// </summary>
    [Theory]
    [InlineData("{\"kind\":\"sequential\",\"layers\":[{\"type\":\"dense\",\"inputs\":100000,\"outputs\":100000,\"prefix\":\"0.\"}]}")]
    [InlineData("{\"kind\":\"linear\",\"inputs\":500000000,\"classes\":4}")]
    [InlineData("{\"kind\":\"sequential\",\"layers\":[{\"type\":\"maxout\",\"inputs\":2,\"outputs\":1073741824,\"pieces\":4,\"prefix\":\"0.\"}]}")]
    [InlineData("{\"kind\":\"sequential\",\"layers\":[{\"type\":\"dense\",\"inputs\":0,\"outputs\":3,\"prefix\":\"0.\"}]}")]
    public void HeaderOnlyFilesDeclaringHugeOrEmptyLayers_AreRefusedBeforeBuilding(string scoreFunction)
    {
        var metadata = new JsonObject
        {
            ["format"] = "neuralbasics.model", ["format_version"] = "1", ["element_type"] = "F32",
            ["score_function"] = scoreFunction, ["loss"] = "{\"name\":\"softmax_cross_entropy\"}",
        };
        byte[] file = File(new JsonObject { ["__metadata__"] = metadata }.ToJsonString(), []);
        Refused(file, allocationLimit: 64 * 1024);
    }

    [Fact]
    public void NonFiniteWeights_AClassWeightCountOrAStrayTensor_AreRefused()
    {
        byte[] good = GoodModel();
        // NaN as the last float of the data (the output layer's last bias).
        byte[] nan = (byte[])good.Clone();
        BinaryPrimitives.WriteSingleLittleEndian(nan.AsSpan(nan.Length - 4), float.NaN);
        Assert.Contains("checksum", Refused(nan).Message);
        Assert.Contains("NaN", Refused(Edited(nan, _ => { })).Message);

        byte[] weights = Edited(good, h => h["__metadata__"]!["loss"] = "{\"name\":\"softmax_cross_entropy\",\"class_weights\":[1,2,3]}");
        Assert.Contains("3 class weights", Refused(weights).Message);

        string lastBias = JsonNode.Parse(Header(good))!.AsObject().Select(p => p.Key).Last(k => k.EndsWith(".b", StringComparison.Ordinal));
        byte[] stray = Edited(good, h =>
        {
            var entry = h[lastBias]!.AsObject();
            h.Remove(lastBias);
            h["extra"] = entry; // the same bytes under a name the architecture does not declare
        });
        Assert.Contains($"lacks the tensor '{lastBias}'", Refused(stray).Message);
        byte[] added = Edited(good, h => h["extra"] = JsonNode.Parse("{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}"));
        Assert.Contains("does not declare", Refused(added).Message);
    }

    // ---- checkpoints ----

    private static Sequential<float> Net() => new NetworkBuilder<float>(3, seed: 2).Dense(4, new Relu()).Dense(2).Build();

    private (string Path, DataSet<float> Data) Checkpoint(int epochs = 3, bool earlyStopping = false)
    {
        var data = SyntheticData.Blobs<float>(20, 2, 3, seed: 4);
        string path = Path.Combine(_folder, $"run-{Guid.NewGuid():N}.ckpt");
        new Trainer<float>(Net(), SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.01),
            new TrainerOptions { Epochs = epochs, BatchSize = 8, CheckpointPath = path, EarlyStopping = earlyStopping ? new EarlyStopping(5) : null })
            .Train(data, earlyStopping ? data : null);
        return (path, data);
    }

    /// <summary>Resumes a 10-epoch run from the edited checkpoint; it must be refused and change nothing.</summary>
    private static string ResumeRefused(byte[] checkpoint, DataSet<float> data, string folder, bool earlyStopping = false)
    {
        string path = Path.Combine(folder, $"edited-{Guid.NewGuid():N}.ckpt");
        System.IO.File.WriteAllBytes(path, checkpoint);
        var net = Net();
        var before = net.Parameters.Select(p => p.Value.Span.ToArray()).ToArray();
        var trainer = new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.01),
            new TrainerOptions { Epochs = 10, BatchSize = 8, EarlyStopping = earlyStopping ? new EarlyStopping(5) : null });
        var e = Assert.Throws<InvalidDataException>(() => trainer.Resume(path, data, earlyStopping ? data : null));
        for (int k = 0; k < before.Length; k++)
            Assert.Equal(before[k], net.Parameters[k].Value.Span.ToArray());
        return e.Message;
    }

    private static byte[] WithMetadata(string path, string key, string? value) => Edited(System.IO.File.ReadAllBytes(path), h =>
    {
        if (value is null)
            h["__metadata__"]!.AsObject().Remove(key);
        else
            h["__metadata__"]![key] = value;
    });

    [Theory]
    [InlineData("epoch", "2147483647", "epoch")]
    [InlineData("epoch", "-2147483648", "epoch")]
    [InlineData("epoch", "0", "epoch")]
    [InlineData("epoch", "11", "epoch")]   // past the resumed run's 10 epochs
    [InlineData("epoch", "2", "history has 3")]
    [InlineData("steps", "[-1,-1,-1,-1]", "step count")]
    [InlineData("steps", "[9223372036854775807,9223372036854775807,9223372036854775807,9223372036854775807]", "step count")]
    [InlineData("steps", "[8,8,8,7]", "different step counts")]
    [InlineData("steps", "[8,8,8]", "state for 3 tensors")]
    [InlineData("history", "[{\"epoch\":1,\"data_loss\":-1,\"regularization_loss\":0,\"training_accuracy\":0.5,\"duration_ticks\":1,\"samples_per_second\":1}]", "")]
    [InlineData("history", "[{\"epoch\":1,\"epoch\":2}]", "repeats a key")]
    [InlineData("random_state", "-1", "")]
    public void CheckpointNumbersOutOfRange_AreRefused(string key, string value, string expected)
    {
        var (path, data) = Checkpoint();
        Assert.Contains(expected, ResumeRefused(WithMetadata(path, key, value), data, _folder));
    }

    [Theory]
    [InlineData("{\"best_epoch\":7,\"best_metric\":0.5,\"epochs_without_improvement\":0}", "best epoch")]
    [InlineData("{\"best_epoch\":2,\"best_metric\":0.5,\"epochs_without_improvement\":5}", "without improvement")]
    [InlineData("{\"best_epoch\":2,\"best_metric\":0.5,\"epochs_without_improvement\":-1}", "without improvement")]
    [InlineData("{\"best_epoch\":2,\"best_metric\":\"NaN\",\"epochs_without_improvement\":0}", "")]
    public void EarlyStoppingStateOutOfRange_IsRefused(string state, string expected)
    {
        var (path, data) = Checkpoint(earlyStopping: true);
        Assert.Contains(expected, ResumeRefused(WithMetadata(path, "early_stopping", state), data, _folder, earlyStopping: true));
    }

    [Fact]
    public void AnUneditedCheckpoint_Resumes()
    {
        var (path, data) = Checkpoint();
        var result = new Trainer<float>(Net(), SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.01),
            new TrainerOptions { Epochs = 5, BatchSize = 8 }).Resume(path, data);
        Assert.Equal(5, result.History.Epochs.Count);
    }

    /// <summary>
    /// Every single-bit flip anywhere in a model file (header and data; about 30% of random byte
    /// mutations used to load as a different model) is refused, and the file without its checksum,
    /// as older versions wrote it, still loads.
    /// </summary>
    [Fact]
    public void EveryBitFlip_IsRefused_AndFilesWithoutAChecksumStillLoad()
    {
        byte[] good = GoodModel();
        var expected = ModelFile.Load<float>(good).Scores(Matrix<float>.FromArray(new float[,] { { 1, 2, 3 } })).Span.ToArray();
        int loaded = 0;
        for (int position = 0; position < good.Length; position++)
        {
            byte[] mutated = (byte[])good.Clone();
            mutated[position] ^= (byte)(1 << (position % 8));
            try
            {
                ModelFile.Load<float>(mutated);
                loaded++;
            }
            catch (InvalidDataException)
            {
            }
        }
        Assert.Equal(0, loaded);

        var old = ModelFile.Load<float>(Edited(good, _ => { }));
        Assert.Equal(expected, old.Scores(Matrix<float>.FromArray(new float[,] { { 1, 2, 3 } })).Span.ToArray());
    }

    /// <summary>
    /// A save killed midway leaves its temporary sibling behind; the next save to the same path
    /// removes those whose process has ended (or, from older versions, that sat unwritten for an
    /// hour), and leaves alone a save still running, other files' siblings and files not its own.
    /// </summary>
    [Fact]
    public void LeftoversOfInterruptedSaves_AreRemovedByTheNextSave()
    {
        int deadPid;
        using (var exited = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sh", "-c true") { UseShellExecute = false })!)
        {
            exited.WaitForExit();
            deadPid = exited.Id;
        }
        string Sibling(string middle, string target = "model.safetensors") => Path.Combine(_folder, $".{target}.{middle}.tmp");
        string dead = Sibling($"{deadPid}.{Guid.NewGuid():N}");
        string oldStyleStale = Sibling($"{Guid.NewGuid():N}");
        string running = Sibling($"{Environment.ProcessId}.{Guid.NewGuid():N}");
        string oldStyleFresh = Sibling($"{Guid.NewGuid():N}");
        string otherTarget = Sibling($"{deadPid}.{Guid.NewGuid():N}", "other.safetensors");
        string notOurs = Sibling("notes");
        foreach (string file in new[] { dead, oldStyleStale, running, oldStyleFresh, otherTarget, notOurs })
            System.IO.File.WriteAllBytes(file, [1, 2, 3]);
        System.IO.File.SetLastWriteTimeUtc(oldStyleStale, DateTime.UtcNow.AddDays(-2));

        System.IO.File.WriteAllBytes(Path.Combine(_folder, "model.safetensors"), GoodModel());
        ModelFile.Load<float>(GoodModel()).Save(Path.Combine(_folder, "model.safetensors"));

        Assert.False(System.IO.File.Exists(dead));
        Assert.False(System.IO.File.Exists(oldStyleStale));
        Assert.True(System.IO.File.Exists(running));
        Assert.True(System.IO.File.Exists(oldStyleFresh));
        Assert.True(System.IO.File.Exists(otherTarget));
        Assert.True(System.IO.File.Exists(notOurs));
    }
}
