namespace NeuralBasics.Tests.Docs;

/// <summary>The README's code must not rot: its quick start is the compiled quick-start sample, verbatim.</summary>
public class ReadmeTests
{
    private static string Root()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "NeuralBasics.sln")))
            directory = directory.Parent;
        return directory!.FullName;
    }

    [Fact]
    public void QuickStart_IsTheCompiledSample()
    {
        string root = Root();
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
        string root = Root();
        string readme = File.ReadAllText(Path.Combine(root, "README.md"));
        var images = System.Text.RegularExpressions.Regex.Matches(readme, @"\]\((docs/images/[^)]+\.png)\)").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(images);
        Assert.All(images, image => Assert.True(File.Exists(Path.Combine(root, image)), image));
    }
}
