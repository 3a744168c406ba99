using NeuralBasics.Csv;

namespace NeuralBasics.Tests.Data;

public class CsvDataSetTests
{
    [Fact]
    public void ReadsLabelsAndFeatures()
    {
        var data = CsvDataSet.Parse<double>("label,x1,x2\n0,1.5,-2\n1,3,4e2\n2, 0.25 ,\"7\"\n");
        Assert.Equal(3, data.Count);
        Assert.Equal(2, data.FeatureCount);
        Assert.Equal(3, data.ClassCount);
        Assert.Equal([0, 1, 2], data.Labels.ToArray());
        Assert.Equal(new[] { 1.5, -2, 3, 400, 0.25, 7 }, data.Features.Span.ToArray());
    }

    [Fact]
    public void NamedLabelColumnAndClassNames()
    {
        var options = new CsvDataSetOptions { LabelColumn = "species", ClassNames = ["setosa", "versicolor", "virginica"] };
        var data = CsvDataSet.Parse<float>("a;species;b\n1;virginica;2\n3;setosa;4\n", options);
        Assert.Equal([2, 0], data.Labels.ToArray());
        Assert.Equal(new[] { 1f, 2, 3, 4 }, data.Features.Span.ToArray());
        Assert.Equal(3, data.ClassCount);
    }

    [Fact]
    public void WithoutHeader_AndWithAGivenClassCount()
    {
        var data = CsvDataSet.Parse<double>("1,0.5\n0,0.25\n", new CsvDataSetOptions { HasHeader = false, ClassCount = 4 });
        Assert.Equal(4, data.ClassCount);
        Assert.Equal([1, 0], data.Labels.ToArray());
    }

    private static InvalidDataException Broken(string text, CsvDataSetOptions? options = null) =>
        Assert.Throws<InvalidDataException>(() => CsvDataSet.Parse<double>(text, options));

    [Fact]
    public void NonNumericCells_NameTheLineAndColumn()
    {
        var e = Broken("label,x1,x2\n0,1,2\n1,abc,3\n");
        Assert.Contains("Line 3", e.Message);
        Assert.Contains("'x1'", e.Message);
        Assert.Contains("'abc'", e.Message);
        e = Broken("label,x1\n0,NaN\n");
        Assert.Contains("Line 2", e.Message);
        Assert.Contains("finite", e.Message);
    }

    [Fact]
    public void RaggedRows_NameTheLine()
    {
        var e = Broken("label,x1,x2\n0,1,2\n1,3\n");
        Assert.Contains("Line 3 has 2 columns", e.Message);
        e = Broken("0,1,2\n1,3,4,5\n", new CsvDataSetOptions { HasHeader = false });
        Assert.Contains("Line 2 has 4 columns", e.Message);
    }

    [Fact]
    public void EmptyFiles_AreRefused()
    {
        Assert.Contains("empty", Broken("").Message);
        Assert.Contains("no data rows", Broken("label,x1\n").Message);
        Assert.Contains("empty", Broken("", new CsvDataSetOptions { HasHeader = false }).Message);
    }

    [Fact]
    public void LabelsOutsideTheClasses_NameTheLine()
    {
        var e = Broken("label,x\ncat,1\nzebra,2\n", new CsvDataSetOptions { ClassNames = ["cat", "dog"] });
        Assert.Contains("Line 3", e.Message);
        Assert.Contains("'zebra'", e.Message);
        e = Broken("label,x\n0,1\n7,2\n", new CsvDataSetOptions { ClassCount = 3 });
        Assert.Contains("Line 3: label 7", e.Message);
        e = Broken("label,x\n0,1\n-1,2\n");
        Assert.Contains("Line 3", e.Message);
        e = Broken("label,x\n1.5,1\n");
        Assert.Contains("not a class index", e.Message);
        e = Broken("label,x\n0,1\n", new CsvDataSetOptions { LabelColumn = "class" });
        Assert.Contains("no column 'class'", e.Message);
    }

    [Fact]
    public void ReadsFromAFile_AndNamesIt()
    {
        string path = Path.Combine(Path.GetTempPath(), $"neuralbasics-{Guid.NewGuid():N}.csv");
        try
        {
            File.WriteAllText(path, "label,x\n0,1\n1,oops\n");
            var e = Assert.Throws<InvalidDataException>(() => CsvDataSet.Read<float>(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("Line 3", e.Message);
            File.WriteAllText(path, "label,x\n0,1\n1,2\n");
            Assert.Equal(2, CsvDataSet.Read<float>(path).Count);
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Throws<FileNotFoundException>(() => CsvDataSet.Read<float>(path));
    }

    /// <summary>
    /// What Sep itself refuses (a repeated column name, a row past its maximum length after an
    /// unterminated quote), a value that fits a double but not a float, and a label so large it
    /// would make a billion classes: all invalid data, named; the options' own mistakes stay argument errors.
    /// </summary>
    [Fact]
    public void HostileContent_IsInvalidData_AndBadOptionsAreArgumentErrors()
    {
        Assert.Contains("found 2 times", Broken("label,a,a\n0,1,2\n1,3,4\n").Message);
        Assert.Contains("quotes", Broken("label,a\n0,\"" + new string('x', 17 << 20) + "\n").Message);

        var e = Assert.Throws<InvalidDataException>(() => CsvDataSet.Parse<float>("label,a\n0,1\n1,1e39\n"));
        Assert.Contains("Line 3, column 'a'", e.Message);
        Assert.Contains("too large for Single", e.Message);
        Assert.Equal(1e39, CsvDataSet.Parse<double>("label,a\n0,1\n1,1e39\n").Features[1, 0]);

        e = Broken("label,a\n0,1\n1000000000,2\n1,3\n");
        Assert.Contains("Line 3: label 1000000000", e.Message);
        Assert.Equal(1_000_000_001, CsvDataSet.Parse<float>("label,a\n0,1\n1000000000,2\n", new CsvDataSetOptions { ClassCount = 1_000_000_001 }).ClassCount);

        Assert.Throws<ArgumentException>(() => CsvDataSet.Parse<float>("label,a\n0,1\n", new CsvDataSetOptions { ClassNames = ["only"] }));
        var repeated = Assert.Throws<ArgumentException>(() =>
            CsvDataSet.Parse<float>("label,a\ncat,1\n", new CsvDataSetOptions { ClassNames = ["cat", "dog", "cat"] }));
        Assert.Contains("'cat' is given 2 times", repeated.Message);
        Assert.Equal("options", repeated.ParamName);
        Assert.Throws<ArgumentException>(() => CsvDataSet.Parse<float>("0,1\n", new CsvDataSetOptions { HasHeader = false, LabelColumn = "label" }));
        Assert.Throws<ArgumentOutOfRangeException>(() => CsvDataSet.Parse<float>("label,a\n0,1\n", new CsvDataSetOptions { ClassCount = 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => CsvDataSet.Parse<float>("label,a\n0,1\n", new CsvDataSetOptions { LabelColumnIndex = -1 }));
    }
}
