using System.Reflection;
using System.Text.RegularExpressions;
using NeuralBasics.Training;
using Xunit.Abstractions;

namespace NeuralBasics.Tests.Design;

/// <summary>The library's shape: namespaces without cycles, one public type per file named after it, nothing public unsafe.</summary>
public sealed partial class NamespaceTests(ITestOutputHelper output)
{
    private static readonly Assembly Library = typeof(Trainer<>).Assembly;

    [Fact]
    public void TheLibrarysNamespacesFormNoCycle()
    {
        var edges = NamespaceDependencies.Of(Library);
        foreach (var (from, to) in edges)
            output.WriteLine($"{from} -> {to}");

        Assert.Contains(("NeuralBasics.Training", "NeuralBasics.Optimizers"), edges);
        // Rooms by job: the shipped model and its evaluation know nothing of training.
        Assert.Contains(("NeuralBasics.Training", "NeuralBasics.Models"), edges);
        Assert.Contains(("NeuralBasics.Models", "NeuralBasics.Evaluation"), edges);
        Assert.DoesNotContain(edges, e => e.Item1 is "NeuralBasics.Models" or "NeuralBasics.Evaluation" && e.Item2.StartsWith("NeuralBasics.Training", StringComparison.Ordinal));
        Assert.Null(NamespaceDependencies.FindCycle(edges));
    }

    [Fact]
    public void TheCycleFinderFindsCyclesAndOnlyThem()
    {
        Assert.Null(NamespaceDependencies.FindCycle([("A", "B"), ("B", "C"), ("A", "C"), ("D", "A")]));
        Assert.Equal(["B", "C", "D", "B"], NamespaceDependencies.FindCycle([("A", "B"), ("B", "C"), ("C", "D"), ("D", "B")]));
        Assert.Equal(["A", "B", "A"], NamespaceDependencies.FindCycle([("A", "B"), ("B", "A")]));
    }

    [Fact]
    public void EveryPublicTypeHasAFileOfItsOwnNamedAfterIt()
    {
        string source = Path.Combine(TestProcess.RepositoryRoot(), "src", "NeuralBasics");
        var files = Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories)
            .Where(file => !file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .ToList();

        foreach (string file in files)
        {
            var declared = TopLevelPublicType().Matches(File.ReadAllText(file)).Select(match => match.Groups["name"].Value).ToList();
            Assert.True(declared.Count <= 1, $"{Path.GetFileName(file)} declares {string.Join(", ", declared)}");
            if (declared.Count == 1)
                Assert.Equal(declared[0], Path.GetFileNameWithoutExtension(file));
        }
        var names = files.Select(Path.GetFileNameWithoutExtension).ToHashSet();
        Assert.All(Library.GetExportedTypes().Where(type => !type.IsNested), type => Assert.Contains(type.Name.Split('`')[0], names));
    }

    [Fact]
    public void NoPublicMemberTakesOrReturnsAPointer()
    {
        const BindingFlags Visible = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var pointers = from type in Library.GetExportedTypes()
                       from method in type.GetMethods(Visible).Cast<MethodBase>().Concat(type.GetConstructors(Visible))
                       where method is MethodInfo { ReturnType.IsPointer: true } || method.GetParameters().Any(p => p.ParameterType.IsPointer || p.ParameterType.IsFunctionPointer)
                       select $"{type.Name}.{method.Name}";
        Assert.Empty(pointers);
        Assert.DoesNotContain(Library.GetExportedTypes().SelectMany(type => type.GetFields(Visible)), field => field.FieldType.IsPointer);
    }

    [GeneratedRegex(@"^public (?:[a-z]+ )*(?:class|struct|interface|record|enum|delegate [^ ]+) (?<name>[A-Za-z0-9_]+)", RegexOptions.Multiline)]
    private static partial Regex TopLevelPublicType();
}
