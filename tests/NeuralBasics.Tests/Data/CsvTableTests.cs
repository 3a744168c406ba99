using NeuralBasics.Csv;
using NeuralBasics.Tables;

namespace NeuralBasics.Tests.Data;

public class CsvTableTests
{
    public static string PenguinsPath => Path.Combine(AppContext.BaseDirectory, "TestData", "penguins.csv");

    [Fact]
    public void Penguins_KindsInferred_NAIsMissing()
    {
        var table = CsvTable.Read(PenguinsPath);
        Assert.Equal(344, table.RowCount);
        Assert.Equal(["species", "island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex", "year"],
            table.Columns.Select(c => c.Name));
        Assert.Equal([ColumnKind.Categorical, ColumnKind.Categorical, ColumnKind.Numeric, ColumnKind.Numeric, ColumnKind.Numeric,
            ColumnKind.Numeric, ColumnKind.Categorical, ColumnKind.Numeric], table.Columns.Select(c => c.Kind));
        // Counted in the file with grep: 2 rows have no measurements, 11 no sex.
        Assert.Equal(2, table["bill_length_mm"].MissingCount);
        Assert.Equal(11, table["sex"].MissingCount);
        Assert.Equal(["Adelie", "Gentoo", "Chinstrap"], table["species"].Levels);
        Assert.Equal(39.1, table["bill_length_mm"].Number(0));
        Assert.True(double.IsNaN(table["body_mass_g"].Number(3)));
        Assert.Null(table["sex"].Text(3));
        Assert.Equal("female", table["sex"].Text(1));
    }

    [Fact]
    public void EveryMissingSpelling_IsMissing_NeverZero()
    {
        var table = CsvTable.Parse("x,c\n1,a\n,\nNA,NA\nN/A,N/A\n?,?\nnull,null\nNaN,NaN\n2,b\n");
        Assert.Equal(ColumnKind.Numeric, table["x"].Kind);
        Assert.Equal(ColumnKind.Categorical, table["c"].Kind);
        Assert.Equal(6, table["x"].MissingCount);
        Assert.Equal(6, table["c"].MissingCount);
        Assert.Equal(["a", "b"], table["c"].Levels);
        var custom = CsvTable.Parse("x\n-999\n3\n", new CsvTableOptions { MissingValues = ["-999"] });
        Assert.True(custom["x"].IsMissing(0));
        Assert.Equal(3, custom["x"].Number(1));
    }

    [Fact]
    public void AColumnThatTurnsOutText_KeepsTheOriginalTextOfItsEarlierRows()
    {
        var table = CsvTable.Parse("code,v\n007,1\n1.50,2\nx9,3\n007,4\n");
        var code = table["code"];
        Assert.Equal(ColumnKind.Categorical, code.Kind);
        Assert.Equal(["007", "1.50", "x9", "007"], Enumerable.Range(0, 4).Select(code.Text));
        Assert.Equal(3, code.Levels.Count);
    }

    [Fact]
    public void ALongFile_SizedFromItsFirstRows_TurningTextLate()
    {
        // 3,000 rows: the buffers are sized after 1,024; "code" turns out text at row 2,500.
        var text = "code,x\n" + string.Concat(Enumerable.Range(0, 3000).Select(i => $"{(i == 2500 ? "x" : i.ToString("D4", System.Globalization.CultureInfo.InvariantCulture))},{(i % 7 == 0 ? "NA" : i.ToString(System.Globalization.CultureInfo.InvariantCulture))}\n"));
        var table = CsvTable.Parse(text);
        Assert.Equal(3000, table.RowCount);
        Assert.Equal(ColumnKind.Categorical, table["code"].Kind);
        Assert.Equal(["0000", "0001", "x", "2999"], new[] { 0, 1, 2500, 2999 }.Select(table["code"].Text));
        Assert.Equal(3000, table["code"].Levels.Count);
        Assert.Equal(3000 / 7 + 1, table["x"].MissingCount);
        Assert.Equal(2999, table["x"].Number(2999));
        Assert.Throws<IndexOutOfRangeException>(() => table["x"].Number(3000));
    }

    [Fact]
    public void KindsGivenExplicitly_IncludingIgnored()
    {
        var options = new CsvTableOptions { Kinds = new Dictionary<string, ColumnKind> { ["year"] = ColumnKind.Categorical, ["id"] = ColumnKind.Ignored } };
        var table = CsvTable.Parse("id,year,x\nA1,2007,1\nA2,2008,2\n", options);
        Assert.Equal(["year", "x"], table.Columns.Select(c => c.Name));
        Assert.Equal(ColumnKind.Categorical, table["year"].Kind);
        Assert.Equal("2008", table["year"].Text(1));
        var numeric = new CsvTableOptions { Kinds = new Dictionary<string, ColumnKind> { ["x"] = ColumnKind.Numeric } };
        Assert.Equal("Line 3, column 'x': 'two' is not a number; it is declared numeric in Kinds.",
            Assert.Throws<InvalidDataException>(() => CsvTable.Parse("x\n1\ntwo\n", numeric)).Message);
        Assert.Contains("'nope'", Assert.Throws<ArgumentException>(() => CsvTable.Parse("x\n1\n",
            new CsvTableOptions { Kinds = new Dictionary<string, ColumnKind> { ["nope"] = ColumnKind.Numeric } })).Message);
    }

    [Theory]
    [InlineData("x,y\n1,2\n3\n", "Line 3 has 1 columns but the header has 2.")]
    [InlineData("x,y\n1\u0000,2\n", "Line 2, column 'x': the cell holds a NUL character.")]
    [InlineData("x\n1e999\n", "Line 2, column 'x': '1e999' is not a finite number.")]
    [InlineData("", "The CSV file is empty.")]
    [InlineData("x,y\n", "The CSV file has a header but no data rows.")]
    public void MalformedContent_NamesTheLineAndColumn(string text, string message)
    {
        var options = text.StartsWith("x\n1e", StringComparison.Ordinal) ? new CsvTableOptions { Kinds = new Dictionary<string, ColumnKind> { ["x"] = ColumnKind.Numeric } } : null;
        Assert.Equal(message, Assert.Throws<InvalidDataException>(() => CsvTable.Parse(text, options)).Message);
    }

    [Fact]
    public void RepeatedColumnNames_AreMalformed()
    {
        Assert.Contains("malformed", Assert.Throws<InvalidDataException>(() => CsvTable.Parse("x,x\n1,2\n")).Message);
    }

    [Fact]
    public void MillionsOfDistinctCategories_StopAtTheCap()
    {
        // A column of unique identifiers must not grow a dictionary without bound.
        var text = "id,x\n" + string.Concat(Enumerable.Range(0, 5000).Select(i => $"user{i},1\n"));
        var e = Assert.Throws<InvalidDataException>(() => CsvTable.Parse(text, new CsvTableOptions { MaxCategories = 1000 }));
        Assert.Equal(
            "Line 1002, column 'id': more than 1000 distinct categories. An identifier or free text is no category: read the column as ColumnKind.Ignored, or raise MaxCategories if it really has that many.",
            e.Message);
    }

    [Fact]
    public void CsvDataSet_RefusesANulInANumber()
    {
        Assert.Equal("Line 2, column 'x': the cell holds a NUL character.",
            Assert.Throws<InvalidDataException>(() => CsvDataSet.Parse<float>("y,x\n0,1\u0000\n1,2\n")).Message);
    }
}
