namespace NeuralBasics.Tests.Docs;

/// <summary>The README's code must not rot: its quick start is the compiled quick-start sample, verbatim.</summary>
public class ReadmeTests
{
    [Fact]
    public void QuickStart_IsTheCompiledSample()
    {
        string root = TestProcess.RepositoryRoot();
        string readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");
        string sample = File.ReadAllText(Path.Combine(root, "samples", "NeuralBasics.QuickStart", "Program.cs")).ReplaceLineEndings("\n");

        int section = readme.IndexOf("## Quick start", StringComparison.Ordinal);
        Assert.True(section >= 0, "The README has no '## Quick start' section.");
        int start = readme.IndexOf("```csharp\n", section, StringComparison.Ordinal) + "```csharp\n".Length;
        int end = readme.IndexOf("\n```", start, StringComparison.Ordinal);
        Assert.Equal(sample.TrimEnd(), readme[start..end].TrimEnd());
    }

    [Fact]
    public void TheImagesTheReadmeShows_Exist()
    {
        string root = TestProcess.RepositoryRoot();
        string readme = File.ReadAllText(Path.Combine(root, "README.md"));
        var images = System.Text.RegularExpressions.Regex.Matches(readme, @"\]\((docs/images/[^)]+\.png)\)").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(images);
        Assert.All(images, image => Assert.True(File.Exists(Path.Combine(root, image)), image));
    }

    [Fact]
    public void TheReadmeIsAGuide_AtMost250Lines_WithEveryLinkResolving()
    {
        string root = TestProcess.RepositoryRoot();
        string[] lines = File.ReadAllLines(Path.Combine(root, "README.md"));
        Assert.True(lines.Length <= 250, $"The README has {lines.Length} lines; measurement history goes to benchmarks/README.md, runbooks to docs/.");
        foreach (string file in new[] { "README.md", "docs/architecture.md", "docs/cluster.md", "docs/reliability.md", "docs/speed.md", "docs/distributed-training.md", "benchmarks/README.md" })
        {
            string folder = Path.GetDirectoryName(Path.Combine(root, file))!;
            var links = System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(Path.Combine(root, file)), @"\]\((?!https?:)([^)#]+)(#[^)]*)?\)")
                .Select(m => m.Groups[1].Value);
            Assert.All(links, link => Assert.True(File.Exists(Path.Combine(folder, link)) || Directory.Exists(Path.Combine(folder, link)), $"{file} links to {link}, which does not exist"));
        }
    }

    /// <summary>Every update rule the library ships is in the README, the optimizer race and the golden runs: no list silently falls behind.</summary>
    [Fact]
    public void EveryUpdateRule_IsListedWhereTheRulesAreListed()
    {
        string root = TestProcess.RepositoryRoot();
        var rules = typeof(NeuralBasics.Optimizers.UpdateRule).Assembly.GetExportedTypes()
            .Where(t => t.IsSubclassOf(typeof(NeuralBasics.Optimizers.UpdateRule)) && !t.IsAbstract)
            .Select(t => t.Name).ToList();
        Assert.Contains("AdamW", rules);
        Assert.True(rules.Count >= 10, string.Join(", ", rules));
        string readme = File.ReadAllText(Path.Combine(root, "README.md"));
        string race = File.ReadAllText(Path.Combine(root, "samples", "NeuralBasics.OptimizerRace", "Program.cs"));
        foreach (string rule in rules)
        {
            Assert.Contains($"`{rule}`", readme);
            Assert.Contains($"new {rule}(", race);
            Assert.Contains(rule.ToLowerInvariant(), Training.GoldenRuns.Names);
        }
        Assert.Contains($"{NumberWord(rules.Count)} update rules", readme);
    }

    private static string NumberWord(int n) => n switch { 10 => "ten", 11 => "eleven", 12 => "twelve", _ => n.ToString(System.Globalization.CultureInfo.InvariantCulture) };
}
