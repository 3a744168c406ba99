using NeuralBasics.Fuzz;

namespace NeuralBasics.Tests.Hardening;

/// <summary>
/// Replays the fuzzing corpus (seed files and every crash input kept as a regression file, under
/// tests/NeuralBasics.Fuzz/corpus/TARGET) through the fuzz targets, plus a few thousand seeded
/// mutations of it: every input must load or fail with the documented exception, nothing else.
/// The long fuzzing runs (AFL++) happen outside CI, with tests/NeuralBasics.Fuzz/fuzz.sh.
/// </summary>
public class FuzzCorpusTests
{
    public static TheoryData<string> Targets() => new(FuzzTargets.Names);

    private static IEnumerable<(string Name, byte[] Bytes)> Corpus(string target) =>
        Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "FuzzCorpus", target), "*", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .Select(path => (Path.GetFileName(path), File.ReadAllBytes(path)));

    [Theory]
    [MemberData(nameof(Targets))]
    public void EveryCorpusFile_LoadsOrFailsAsDocumented(string target)
    {
        var files = Corpus(target).ToList();
        Assert.NotEmpty(files);
        foreach (var (name, bytes) in files)
        {
            var exception = Record.Exception(() => FuzzTargets.Run(target, bytes));
            Assert.True(exception is null, $"{target}/{name}: {exception}");
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void SeededMutationsOfTheCorpus_LoadOrFailAsDocumented(string target)
    {
        var random = new Random(target.Length * 7919);
        int runs = 0, loaded = 0;
        foreach (var (name, seed) in Corpus(target))
        {
            for (int m = 0; m < 300; m++)
            {
                byte[] mutant = Mutate(seed, random);
                var exception = Record.Exception(() => { if (FuzzTargets.Run(target, mutant)) loaded++; });
                Assert.True(exception is null,
                    $"{target}/{name}, mutation {m} ({Convert.ToBase64String(mutant)}): {exception}");
                runs++;
            }
        }
        Assert.True(runs >= 300);
    }

    /// <summary>One to four random edits: bit flips, byte overwrites with edge values, truncation, insertion, duplication.</summary>
    private static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = new List<byte>(seed);
        int edits = random.Next(1, 5);
        for (int e = 0; e < edits && bytes.Count > 0; e++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(6))
            {
                case 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                case 1: bytes[at] = (byte)(new byte[] { 0, 0xff, 0x7f, 0x80, 1 }[random.Next(5)]); break;
                case 2: bytes.RemoveRange(at, bytes.Count - at); break;
                case 3: bytes.Insert(at, (byte)random.Next(256)); break;
                case 4: bytes.InsertRange(at, bytes.Skip(at).Take(random.Next(1, 16)).ToList()); break;
                default: bytes.RemoveAt(at); break;
            }
        }
        return [.. bytes];
    }
}
