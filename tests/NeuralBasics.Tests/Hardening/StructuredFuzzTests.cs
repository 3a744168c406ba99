using System.Buffers.Binary;
using System.Text.Json.Nodes;
using System.Text;
using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Models;
using NeuralBasics.Optimizers;
using NeuralBasics.Training;

namespace NeuralBasics.Tests.Hardening;

/// <summary>
/// A structured-mutation fuzzer over the headers of a valid model file and a valid checkpoint (byte
/// flips live in <see cref="FuzzCorpusTests"/> and the AFL harness): it repeats keys, sets shapes,
/// offsets, layer sizes and checkpoint numbers to the edges of int, long and Array.MaxLength, moves
/// and renames tensors, changes dtypes and drops entries, one to three mutations per file, seeded.
/// Every mutant must load or fail with <see cref="InvalidDataException"/>, and refusing it must
/// allocate no more than a small multiple of its size. The checksum is removed (format version 1)
/// so that the checks behind it are what is exercised.
/// </summary>
public sealed class StructuredFuzzTests : IDisposable
{
    /// <summary>Mutants per file kind; NEURALBASICS_FUZZ_MUTANTS runs more (and NEURALBASICS_FUZZ_SEED other ones) locally.</summary>
    private static readonly int Mutants = int.TryParse(Environment.GetEnvironmentVariable("NEURALBASICS_FUZZ_MUTANTS"), out int n) ? n : 600;

    private static readonly int SeedOffset = int.TryParse(Environment.GetEnvironmentVariable("NEURALBASICS_FUZZ_SEED"), out int s) ? s : 0;

    private static readonly string[] Extremes =
    [
        "-1", "0", "1", "2147483647", "-2147483648", "2147483648", "2147483591", "2147483592", "4294967296",
        "9223372036854775807", "-9223372036854775808", "1e308", "\"NaN\"", "0.5", "null", "[]", "{}", "\"x\"",
    ];

    private readonly string _folder = Directory.CreateTempSubdirectory("neuralbasics-structured-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static Sequential<float> Net() => new NetworkBuilder<float>(3, seed: 2).Dense(4, new Relu()).Maxout(3, pieces: 2).Dense(2).Build();

    private byte[] Seed(string kind)
    {
        var data = SyntheticData.Blobs<float>(12, 2, 3, seed: 4);
        string path = Path.Combine(_folder, kind);
        var trainer = new Trainer<float>(Net(), new SoftmaxCrossEntropyLoss([1, 2]), null, new Adam(0.01), new TrainerOptions
        {
            Epochs = 2, BatchSize = 8, CheckpointPath = kind == "checkpoint" ? path : null,
            EarlyStopping = kind == "checkpoint" ? new EarlyStopping(3) : null,
        });
        var model = trainer.Train(data, data).Model.WithPreprocessing(Standardizer.Fit(data), ["a", "b"]);
        if (kind == "model")
            model.Save(path);
        return File.ReadAllBytes(path);
    }

    private static string Header(byte[] file) => Encoding.UTF8.GetString(file, 8, (int)BinaryPrimitives.ReadUInt64LittleEndian(file));

    private static byte[] WithHeader(byte[] file, string header)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        int old = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        var result = new byte[8 + json.Length + file.Length - 8 - old];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)json.Length);
        json.CopyTo(result, 8);
        file.AsSpan(8 + old).CopyTo(result.AsSpan(8 + json.Length));
        return result;
    }

    /// <summary>One mutation of the header; returns what it did, and may leave text to splice in as a repeated key.</summary>
    private static string Mutate(JsonObject header, Random random, List<string> repeats)
    {
        var tensors = header.Where(p => p.Key != "__metadata__").Select(p => p.Key).ToList();
        var metadata = header["__metadata__"]!.AsObject();
        string tensor = tensors[random.Next(tensors.Count)];
        string extreme = Extremes[random.Next(Extremes.Length)];
        switch (random.Next(9))
        {
            case 0:
            {
                var shape = header[tensor]!["shape"]!.AsArray();
                int d = random.Next(shape.Count + 1);
                if (d == shape.Count)
                    shape.Add(JsonNode.Parse(extreme));
                else
                    shape[d] = JsonNode.Parse(extreme);
                return $"{tensor}.shape[{d}] = {extreme}";
            }
            case 1:
            {
                var offsets = header[tensor]!["data_offsets"]!.AsArray();
                int which = random.Next(2);
                long shift = new long[] { -8, -4, -1, 1, 4, 8, 64 }[random.Next(7)];
                if (random.Next(2) == 0 || offsets[which] is not JsonValue value || !value.TryGetValue(out long offset))
                    offsets[which] = JsonNode.Parse(extreme);
                else
                    offsets[which] = offset + shift;
                return $"{tensor}.data_offsets[{which}] changed";
            }
            case 2:
                repeats.Add($"\"{tensor}\":{header[tensor]!.ToJsonString()}");
                return $"{tensor} repeated";
            case 3:
                header[tensor]!["dtype"] = new[] { "F64", "F16", "I8", "BOOL", "XX" }[random.Next(5)];
                return $"{tensor}.dtype changed";
            case 4:
            {
                var entry = header[tensor]!;
                header.Remove(tensor);
                string renamed = random.Next(2) == 0 ? tensor + "x" : tensors[random.Next(tensors.Count)];
                header[renamed] = entry;
                return $"{tensor} renamed {renamed}";
            }
            case 5:
                header.Remove(tensor);
                return $"{tensor} removed";
            case 6:
            {
                var keys = metadata.Select(p => p.Key).ToList();
                string key = keys[random.Next(keys.Count)];
                metadata.Remove(key);
                return $"metadata {key} removed";
            }
            case 7:
            {
                // A number inside one of the metadata's JSON values (layer sizes, epochs, steps, history...).
                var keys = metadata.Select(p => p.Key).Where(k => metadata[k]!.GetValue<string>().Any(char.IsDigit)).ToList();
                string key = keys[random.Next(keys.Count)];
                string value = metadata[key]!.GetValue<string>();
                var numbers = System.Text.RegularExpressions.Regex.Matches(value, "-?[0-9][0-9.eE+-]*");
                var match = numbers[random.Next(numbers.Count)];
                metadata[key] = value[..match.Index] + extreme.Trim('"') + value[(match.Index + match.Length)..];
                return $"metadata {key}: {match.Value} -> {extreme}";
            }
            default:
                repeats.Add($"\"__metadata__\":{{\"format\":\"x\"}}");
                return "__metadata__ repeated";
        }
    }

    [Theory]
    [InlineData("model")]
    [InlineData("checkpoint")]
    public void StructuredMutants_LoadOrFailAsInvalidData_WithinAnAllocationBound(string kind)
    {
        byte[] seed = Seed(kind);
        var random = new Random((kind == "model" ? 1 : 2) + SeedOffset);
        int refused = 0;
        for (int i = 0; i < Mutants; i++)
        {
            var header = JsonNode.Parse(Header(seed))!.AsObject();
            header["__metadata__"]!.AsObject().Remove("checksum");
            header["__metadata__"]!["format_version"] = "1";
            var repeats = new List<string>();
            var done = Enumerable.Range(0, 1 + random.Next(3)).Select(_ => Mutate(header, random, repeats)).ToList();
            string json = header.ToJsonString();
            if (repeats.Count > 0)
                json = json[..^1] + "," + string.Join(",", repeats) + "}";
            byte[] mutant = WithHeader(seed, json);

            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                if (kind == "model")
                {
                    ModelFile.Load<float>(mutant);
                }
                else
                {
                    var net = Net();
                    var rule = new Adam(0.01);
                    var states = net.Parameters.Select(p => rule.CreateState<float>(p.Value.Span.Length)).ToArray();
                    CheckpointFile.Load(mutant, net.Parameters, states, rule, epochs: 5, batchesPerEpoch: 3);
                }
            }
            catch (InvalidDataException)
            {
                refused++;
            }
            catch (Exception e)
            {
                Assert.Fail($"Mutant {i} ({string.Join("; ", done)}) threw {e.GetType().Name}: {e.Message}");
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < 256 * 1024 + 64L * mutant.Length,
                $"Mutant {i} ({string.Join("; ", done)}) allocated {allocated} bytes for a {mutant.Length}-byte file.");
        }
        // Nearly every mutation breaks something; a handful (a shape [2] rewritten as [2], say) do not.
        Assert.InRange(refused, Mutants * 9 / 10, Mutants);
    }
}
