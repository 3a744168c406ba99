using NeuralBasics.Data;
using NeuralBasics.Tables;

namespace NeuralBasics.Tests.Tables;

public class TableSchemaTests
{
    private static Table Sample() => new([
        TableColumn.Categorical("kind", ["cat", "dog", "cat", "bird", "dog"]),
        TableColumn.Numeric("weight", [1, double.NaN, 3, 8, 4]),
        TableColumn.Categorical("colour", ["b", "a", null, "b", "c"]),
        TableColumn.Numeric("id", [10, 11, 12, 13, 14]),
    ]);

    [Fact]
    public void NumericColumn_MeanFill_ThenStandardized_HandWorked()
    {
        // weight present: 1, 3, 8, 4 → mean 4; filled: 1, 4, 3, 8, 4 → mean 4,
        // population variance (9 + 0 + 1 + 16 + 0) / 5 = 5.2.
        var encoding = NumericEncoding.Fit(Sample()["weight"]);
        Assert.Equal(4.0, encoding.Fill);
        Assert.Equal(4.0, encoding.Mean);
        Assert.Equal(Math.Sqrt(5.2), encoding.Scale, 15);
        var features = new Matrix<double>(5, 1);
        encoding.Encode(Sample()["weight"], 0, features.AsSpan(), 0);
        double s = Math.Sqrt(5.2);
        Assert.Equal(new[] { -3 / s, 0, -1 / s, 4 / s, 0 }, features.Span.ToArray(), new ToleranceComparer(1e-15));
    }

    [Fact]
    public void NumericColumn_MedianFill_AndMissingIndicator_HandWorked()
    {
        // present sorted 1, 3, 4, 8 → median 3.5; filled 1, 3.5, 3, 8, 4 → mean 3.9;
        // deviations −2.9, −0.4, −0.9, 4.1, 0.1 → variance (8.41 + 0.16 + 0.81 + 16.81 + 0.01) / 5 = 5.24.
        var encoding = NumericEncoding.Fit(Sample()["weight"], NumericImputation.Median, indicator: true);
        Assert.Equal(3.5, encoding.Fill);
        Assert.Equal(3.9, encoding.Mean, 14);
        Assert.Equal(Math.Sqrt(5.24), encoding.Scale, 14);
        Assert.Equal(["weight", "weight.missing"], encoding.FeatureNames);
        var features = new Matrix<double>(5, 2);
        encoding.Encode(Sample()["weight"], 0, features.AsSpan(), 0);
        Assert.Equal(new[] { 0.0, 1, 0, 0, 0 }, Enumerable.Range(0, 5).Select(i => features[i, 1]));
        Assert.Equal(-0.4 / Math.Sqrt(5.24), features[1, 0], 14);
    }

    [Fact]
    public void OneHot_RareCategoriesShareOther_MissingHasItsOwnFeature()
    {
        var encoding = OneHotEncoding.Fit(Sample()["colour"], minimumCount: 2);
        Assert.Equal(["b"], encoding.Categories);
        Assert.Equal(["a", "c"], encoding.Rare);
        Assert.Equal(["colour=b", "colour=(other)", "colour=(missing)"], encoding.FeatureNames);
        var features = new Matrix<float>(5, 3);
        encoding.Encode(Sample()["colour"], 0, features.AsSpan(), 0);
        Assert.Equal(new float[] { 1, 0, 0, /**/ 0, 1, 0, /**/ 0, 0, 1, /**/ 1, 0, 0, /**/ 0, 1, 0 }, features.Span.ToArray());
    }

    [Fact]
    public void OneHot_CategoriesInOrdinalOrder()
    {
        var encoding = OneHotEncoding.Fit(Sample()["kind"]);
        Assert.Equal(["bird", "cat", "dog"], encoding.Categories);
        Assert.False(encoding.HasOther);
        Assert.False(encoding.HasMissing);
    }

    [Theory]
    [InlineData(UnknownCategory.Zeros, new float[] { 0, 0, 0 })]
    [InlineData(UnknownCategory.Other, new float[] { 0, 0, 0, 1 })]
    public void UnknownCategory_ZerosOrOther(UnknownCategory unknown, float[] expected)
    {
        var encoding = OneHotEncoding.Fit(Sample()["kind"], unknown: unknown);
        var fish = TableColumn.Categorical("kind", ["fish"]);
        var features = new Matrix<float>(1, encoding.FeatureNames.Count);
        encoding.Encode(fish, 0, features.AsSpan(), 0);
        Assert.Equal(expected, features.Span.ToArray());
        // A missing value, never seen in training, is handled the same way.
        encoding.Encode(TableColumn.Categorical("kind", [null]), 0, features.AsSpan(), 0);
        Assert.Equal(expected, features.Span.ToArray());
    }

    [Fact]
    public void UnknownCategory_Error_NamesTheColumnRowAndValue()
    {
        var encoding = OneHotEncoding.Fit(Sample()["kind"]);
        var features = new Matrix<float>(2, 3);
        var e = Assert.Throws<ArgumentException>(() => encoding.Encode(TableColumn.Categorical("kind", ["cat", "fish"]), 0, features.AsSpan(), 0));
        Assert.Contains("Row 1, column 'kind': 'fish' is not one of the categories", e.Message);
        e = Assert.Throws<ArgumentException>(() => encoding.Encode(TableColumn.Categorical("kind", ["cat", null]), 0, features.AsSpan(), 0));
        Assert.Contains("Row 1, column 'kind': the value is missing", e.Message);
    }

    [Fact]
    public void TooManyCategories_AreRefusedWithAHint()
    {
        var column = TableColumn.Categorical("name", Enumerable.Range(0, 50).Select(i => $"n{i}"));
        var e = Assert.Throws<ArgumentException>(() => OneHotEncoding.Fit(column, maximumCategories: 49));
        Assert.Contains("'name' has 50 categories", e.Message);
        Assert.Contains("identifier", e.Message);
        Assert.Equal(50, OneHotEncoding.Fit(column, maximumCategories: 50).Categories.Count);
    }

    [Fact]
    public void Fit_EncodesEveryColumnButTheLabelAndTheIgnored_InTableOrder()
    {
        var schema = TableSchema.Fit(Sample(), "kind", new TableSchemaOptions { Ignore = ["id"], MissingIndicators = true });
        Assert.Equal(["bird", "cat", "dog"], schema.ClassNames);
        Assert.Equal(["weight", "weight.missing", "colour=a", "colour=b", "colour=c", "colour=(missing)"], schema.FeatureNames);
        Assert.Equal([1, 2, 1, 0, 2], schema.Labels(Sample()));
        var data = schema.ToDataSet<double>(Sample());
        Assert.Equal(6, data.FeatureCount);
        Assert.Equal(3, data.ClassCount);
        // Row 2: weight 3 → (3 − 4)/√5.2, present; colour missing.
        Assert.Equal(new[] { -1 / Math.Sqrt(5.2), 0, 0, 0, 0, 1 }, data.Features.Row(2).ToArray(), new ToleranceComparer(1e-15));
    }

    [Fact]
    public void Fit_NumericLabels_AreClassIndices()
    {
        var table = new Table([TableColumn.Numeric("y", [0, 2, 1, 2]), TableColumn.Numeric("x", [1, 2, 3, 4])]);
        var schema = TableSchema.Fit(table, "y");
        Assert.Equal(["0", "1", "2"], schema.ClassNames);
        Assert.Equal([0, 2, 1, 2], schema.Labels(table));
        var bad = new Table([TableColumn.Numeric("y", [0, 1.5]), TableColumn.Numeric("x", [1, 2])]);
        Assert.Contains("Row 1 of the label column 'y' is 1.5", Assert.Throws<ArgumentException>(() => TableSchema.Fit(bad, "y")).Message);
    }

    [Fact]
    public void Fit_RefusesAMissingLabel_AnUnknownClass_AndATypo()
    {
        var table = new Table([TableColumn.Categorical("y", ["a", null, "b"]), TableColumn.Numeric("x", [1, 2, 3])]);
        Assert.Contains("Row 1: the label ('y') is missing", Assert.Throws<ArgumentException>(() => TableSchema.Fit(table, "y")).Message);
        var other = new Table([TableColumn.Categorical("y", ["a", "c"]), TableColumn.Numeric("x", [1, 2])]);
        Assert.Contains("Row 1: the label 'c' is not one of the classes a, b",
            Assert.Throws<ArgumentException>(() => TableSchema.Fit(other, "y", new TableSchemaOptions { ClassNames = ["a", "b"] })).Message);
        Assert.Contains("no column 'why'", Assert.Throws<ArgumentException>(() => TableSchema.Fit(other, "why")).Message);
        Assert.Contains("no column 'idd'", Assert.Throws<ArgumentException>(() => TableSchema.Fit(other, "y", new TableSchemaOptions { Ignore = ["idd"] })).Message);
    }

    [Fact]
    public void Transform_NamesAnAbsentColumn_OrOneOfTheOtherKind()
    {
        var schema = TableSchema.Fit(Sample(), "kind");
        var withoutWeight = new Table([TableColumn.Categorical("colour", ["a"]), TableColumn.Numeric("id", [1])]);
        Assert.Contains("no column 'weight'", Assert.Throws<ArgumentException>(() => schema.Transform<float>(withoutWeight)).Message);
        var textWeight = new Table([TableColumn.Categorical("weight", ["heavy"]), TableColumn.Categorical("colour", ["a"]), TableColumn.Numeric("id", [1])]);
        Assert.Contains("'weight' should be numeric", Assert.Throws<ArgumentException>(() => schema.Transform<float>(textWeight)).Message);
    }

    [Fact]
    public void Transform_InBlocks_IsRowByRow_AndNamesTheAbsoluteRow()
    {
        // 6,000 rows of 8-byte features span three of the schema's blocks.
        var random = new Random(5);
        var table = new Table([
            TableColumn.Categorical("y", Enumerable.Range(0, 6000).Select(i => i % 2 == 0 ? "a" : "b")),
            TableColumn.Numeric("x", [.. Enumerable.Range(0, 6000).Select(_ => random.NextDouble() < 0.1 ? double.NaN : random.NextDouble())]),
            TableColumn.Categorical("c", Enumerable.Range(0, 6000).Select(_ => random.Next(4) switch { 0 => null, var k => $"k{k}" })),
        ]);
        var schema = TableSchema.Fit(table, "y", new TableSchemaOptions { MissingIndicators = true });
        var all = schema.Transform<double>(table);
        foreach (int row in new[] { 0, 2729, 2730, 2731, 5999 })
            Assert.Equal(schema.Transform<double>(table.SelectRows([row])).Span.ToArray(), all.Row(row).ToArray());
        var withUnseen = new Table([table["x"], TableColumn.Categorical("c", Enumerable.Range(0, 6000).Select(i => i == 5999 ? "new" : "k1"))]);
        Assert.StartsWith("Row 5999, column 'c': 'new'", Assert.Throws<ArgumentException>(() => schema.Transform<double>(withUnseen)).Message);
    }

    [Fact]
    public void Split_IsTheSameChoiceAsTheDataSetSplit()
    {
        var labels = Enumerable.Range(0, 40).Select(i => i % 3 == 0 ? "x" : "y").ToArray();
        var table = new Table([TableColumn.Categorical("label", labels), TableColumn.Numeric("row", [.. Enumerable.Range(0, 40).Select(i => (double)i)])]);
        var (train, validation) = table.Split("label", 0.25, seed: 7);
        var features = new Matrix<double>(40, 1);
        for (int i = 0; i < 40; i++)
            features[i, 0] = i;
        var (dataTrain, dataValidation) = DataSplit.Stratified(new DataSet<double>(features, labels.Select(l => l == "x" ? 0 : 1).ToArray(), 2), 0.25, seed: 7);
        Assert.Equal(dataTrain.Features.Span.ToArray(), Enumerable.Range(0, train.RowCount).Select(train["row"].Number));
        Assert.Equal(dataValidation.Features.Span.ToArray(), Enumerable.Range(0, validation.RowCount).Select(validation["row"].Number));
        Assert.Equal(4 + 7, validation.RowCount); // 14 x: round(3.5) = 4; 26 y: round(6.5) = 7
    }

    [Fact]
    public void Builders_GiveTheRowsAdded_AndRefuseWhatAColumnCannotHold()
    {
        var numbers = new NumericColumnBuilder("x", capacity: 100);
        numbers.Add(1.5);
        numbers.AddMissing();
        var column = numbers.Build();
        Assert.Equal(2, column.Count);
        Assert.Equal(1, column.MissingCount);
        Assert.Contains("Row 0 of column 'y' is Infinity", Assert.Throws<ArgumentException>(() => new NumericColumnBuilder("y").Add(double.PositiveInfinity)).Message);
        var categories = new CategoricalColumnBuilder("c", maxCategories: 2);
        Assert.True(categories.TryAdd("a"));
        Assert.False(categories.TryAddKnown("b"));
        Assert.True(categories.TryAdd("b"));
        Assert.True(categories.TryAddKnown("a"));
        Assert.False(categories.TryAdd("c"));
        categories.AddMissing();
        var built = categories.Build();
        Assert.Equal(["a", "b", "a", null], Enumerable.Range(0, 4).Select(built.Text));
        Assert.Equal(4, built.Count);
    }

    [Fact]
    public void Table_RefusesRepeatedNamesAndRaggedColumns()
    {
        Assert.Contains("'a' appears twice", Assert.Throws<ArgumentException>(() => new Table([TableColumn.Numeric("a", [1]), TableColumn.Numeric("a", [2])])).Message);
        Assert.Contains("'b' has 2 rows", Assert.Throws<ArgumentException>(() => new Table([TableColumn.Numeric("a", [1]), TableColumn.Numeric("b", [2, 3])])).Message);
        Assert.Contains("finite", Assert.Throws<ArgumentException>(() => TableColumn.Numeric("a", [double.PositiveInfinity])).Message);
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(double obj) => 0;
    }
}
