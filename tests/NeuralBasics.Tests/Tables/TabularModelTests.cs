using System.Text.Json.Nodes;
using NeuralBasics.Csv;
using NeuralBasics.Losses;
using NeuralBasics.Models;
using NeuralBasics.Optimizers;
using NeuralBasics.Scoring;
using NeuralBasics.Tables;
using NeuralBasics.Tests.Data;
using NeuralBasics.Tests.Serialization;
using NeuralBasics.Training;

namespace NeuralBasics.Tests.Tables;

public sealed class TabularModelTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("nb-tabular-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Penguins without the 2 unmeasured rows, split 80/20 by species, a schema fitted on the training part, and a softmax model trained on it.</summary>
    private static (Table Train, Table Test, Classifier<double> Model) Penguins(TableSchemaOptions? options = null)
    {
        var table = CsvTable.Read(CsvTableTests.PenguinsPath);
        var measured = Enumerable.Range(0, table.RowCount).Where(i => !table["bill_length_mm"].IsMissing(i)).ToArray();
        var (train, test) = table.SelectRows(measured).Split("species", 0.2, seed: 1);
        var schema = TableSchema.Fit(train, "species", options ?? new TableSchemaOptions { Ignore = ["year"] });
        var score = new LinearScore<double>(schema.FeatureCount, schema.ClassNames.Count, seed: 1);
        var result = new Trainer<double>(score, SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.05),
            new TrainerOptions { Epochs = 60, BatchSize = 32, Seed = 1 }).Train(schema.ToDataSet<double>(train));
        return (train, test, result.Model.WithSchema(schema));
    }

    [Fact]
    public void Penguins_TrainOnTheTable_PredictTheTestRows()
    {
        var (_, test, model) = Penguins();
        Assert.Equal(["Adelie", "Chinstrap", "Gentoo"], model.ClassNames);
        // bill_length, bill_depth, flipper_length, body_mass, island x3, sex x2 + (missing).
        Assert.Equal(10, model.InputCount);
        // The species are nearly separable by these measurements; logistic regression scores 97–100% on such splits.
        Assert.True(model.Accuracy(test) >= 0.95, $"accuracy {model.Accuracy(test)}");
        var predictions = model.Classify(test);
        Assert.Equal(test.RowCount, predictions.Length);
        Assert.All(predictions, p => Assert.Equal(1.0, p.Probabilities!.Sum(), 12));
        Assert.Equal(predictions.Select(p => p.ClassName), predictions.Select(p => model.ClassNames![p.Class]));
    }

    [Fact]
    public void ARecord_PredictsExactlyAsItsRowInTheMatrix()
    {
        var (_, test, model) = Penguins();
        var matrixScores = model.Scores(model.Schema!.Transform<double>(test));
        for (int i = 0; i < test.RowCount; i++)
        {
            var record = test.Columns.ToDictionary(c => c.Name, c => c.Value(i));
            var prediction = model.Classify(record);
            Assert.Equal(matrixScores.Row(i).ToArray(), prediction.Scores);
        }
    }

    private sealed record Penguin(string Island, double? BillLength, double? BillDepth, double? Flipper, double? Mass, string? Sex);

    private static readonly TableMapping<Penguin> Mapping = new TableMapping<Penguin>()
        .Category("island", p => p.Island)
        .Number("bill_length_mm", p => p.BillLength)
        .Number("bill_depth_mm", p => p.BillDepth)
        .Number("flipper_length_mm", p => p.Flipper)
        .Number("body_mass_g", p => p.Mass)
        .Category("sex", p => p.Sex);

    [Fact]
    public void ATypedObject_ThroughTheMapping_IsTheSameAsItsRecord()
    {
        var (_, _, model) = Penguins();
        var gentoo = new Penguin("Biscoe", 47.5, 15.0, 218, 4950, "female");
        var byMapping = model.Classify(gentoo, Mapping);
        var byRecord = model.Classify(new Dictionary<string, object?>
        {
            ["island"] = "Biscoe", ["bill_length_mm"] = "47.5", ["bill_depth_mm"] = 15, ["flipper_length_mm"] = 218L,
            ["body_mass_g"] = 4950m, ["sex"] = "female", ["comment"] = "not read",
        });
        Assert.Equal(byRecord.Scores, byMapping.Scores);
        Assert.Equal("Gentoo", byMapping.ClassName);
        // A missing sex is its own category (the training rows had some); a missing number is filled.
        Assert.Equal("Gentoo", model.Classify(gentoo with { Sex = null, Mass = null }, Mapping).ClassName);
        // A batch of objects: the same scores as one at a time.
        var batch = model.Classify(Mapping.ToTable([gentoo, gentoo with { Island = "Dream", BillLength = 39, BillDepth = 18.5, Flipper = 190, Mass = 3700 }]));
        Assert.Equal(byMapping.Scores, batch[0].Scores);
        Assert.Equal("Adelie", batch[1].ClassName);
    }

    [Fact]
    public void BatchPredictions_FromACsvFile_AndFromObjects_AreTheTablesPredictions()
    {
        var (_, test, model) = Penguins();
        var expected = model.Classify(test).Select(p => p.Scores).ToArray();
        // The test rows as a file whose columns are in another order, with "year" as text and an extra column.
        string path = Path.Combine(_folder, "test.csv");
        var names = new[] { "sex", "note", "body_mass_g", "island", "flipper_length_mm", "bill_depth_mm", "bill_length_mm", "year" };
        File.WriteAllLines(path, [string.Join(",", names), .. Enumerable.Range(0, test.RowCount).Select(i => string.Join(",", names.Select(n =>
            n == "note" ? "free text" : n == "year" ? "Y2007" : test[n].Value(i) switch
            {
                null => "NA",
                double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                var v => v.ToString(),
            })))]);
        var fromFile = model.ClassifyCsv(path);
        Assert.Equal(expected, fromFile.Select(p => p.Scores).ToArray());
        File.WriteAllText(path, "island,sex\nBiscoe,male\n");
        Assert.Contains("has no column 'bill_length_mm'", Assert.Throws<ArgumentException>(() => model.ClassifyCsv(path)).Message);

        var penguins = Enumerable.Range(0, test.RowCount).Select(i => new Penguin(test["island"].Text(i)!, test["bill_length_mm"].Number(i),
            test["bill_depth_mm"].Number(i), test["flipper_length_mm"].Number(i), test["body_mass_g"].Number(i), test["sex"].Text(i)));
        Assert.Equal(expected, model.Classify(penguins, Mapping).Select(p => p.Scores).ToArray());
    }

    [Fact]
    public void BadRecords_NameTheColumn()
    {
        var (_, _, model) = Penguins();
        var record = new Dictionary<string, object?>
        {
            ["island"] = "Biscoe", ["bill_length_mm"] = 47.5, ["bill_depth_mm"] = 15.0, ["flipper_length_mm"] = 218.0, ["sex"] = "female",
        };
        Assert.Contains("The record has no 'body_mass_g'", Assert.Throws<ArgumentException>(() => model.Classify(record)).Message);
        record["body_mass_g"] = "heavy";
        Assert.Equal("The record's 'body_mass_g' is 'heavy', not a number. (Parameter 'value')", Assert.Throws<ArgumentException>(() => model.Classify(record)).Message);
        record["body_mass_g"] = 4000.0;
        record["island"] = "Atlantis";
        Assert.Contains("column 'island': 'Atlantis' is not one of the categories seen in training (Biscoe, Dream, Torgersen)",
            Assert.Throws<ArgumentException>(() => model.Classify(record)).Message);
        var plain = new Classifier<double>(model.CopyScoreFunction(), model.Loss);
        Assert.Contains("no table schema", Assert.Throws<InvalidOperationException>(() => plain.Classify(record)).Message);
    }

    [Fact]
    public void TheSchema_RoundTripsThroughTheModelFile_BitForBit()
    {
        var (_, test, model) = Penguins(new TableSchemaOptions { Imputation = NumericImputation.Median, MissingIndicators = true, MinCategoryCount = 40, UnknownCategories = UnknownCategory.Zeros });
        string path = Path.Combine(_folder, "penguins.safetensors");
        model.Save(path);
        var loaded = Classifier<double>.Load(path);
        Assert.NotNull(loaded.Schema);
        Assert.Equal(model.Schema!.FeatureNames, loaded.Schema!.FeatureNames);
        Assert.Equal(model.Schema.ClassNames, loaded.Schema.ClassNames);
        foreach (var (saved, read) in model.Schema.Encodings.Zip(loaded.Schema.Encodings))
        {
            Assert.Equal(saved.GetType(), read.GetType());
            if (saved is NumericEncoding n && read is NumericEncoding m)
            {
                Assert.Equal(BitConverter.DoubleToInt64Bits(n.Fill), BitConverter.DoubleToInt64Bits(m.Fill));
                Assert.Equal(BitConverter.DoubleToInt64Bits(n.Mean), BitConverter.DoubleToInt64Bits(m.Mean));
                Assert.Equal(BitConverter.DoubleToInt64Bits(n.Scale), BitConverter.DoubleToInt64Bits(m.Scale));
                Assert.Equal(n.Indicator, m.Indicator);
            }
            if (saved is OneHotEncoding h && read is OneHotEncoding k)
            {
                Assert.Equal(h.Categories, k.Categories);
                Assert.Equal(h.Rare, k.Rare);
                Assert.Equal((h.HasMissing, h.HasOther, h.Unknown), (k.HasMissing, k.HasOther, k.Unknown));
            }
        }
        Assert.Equal(model.Classify(test).SelectMany(p => p.Scores), loaded.Classify(test).SelectMany(p => p.Scores));
        // An unseen island, encoded as zeros as the schema was fitted to do.
        var atlantis = test.Columns.ToDictionary(c => c.Name, c => c.Value(0));
        atlantis["island"] = "Atlantis";
        Assert.Equal(model.Classify(atlantis).Scores, loaded.Classify(atlantis).Scores);
    }

    [Fact]
    public void AFileWhoseSchemaDoesNotFitTheModel_IsRefused()
    {
        var (_, _, model) = Penguins();
        string path = Path.Combine(_folder, "penguins.safetensors");
        model.Save(path);
        byte[] file = File.ReadAllBytes(path);
        var narrower = HostileFileTests.Edited(file, header =>
        {
            var schema = JsonNode.Parse(header["__metadata__"]!["table_schema"]!.GetValue<string>())!.AsObject();
            schema["columns"]!.AsArray().RemoveAt(0);
            header["__metadata__"]!["table_schema"] = schema.ToJsonString();
        });
        Assert.Contains("The table schema makes 7 features but the model takes 10", // island's three are gone
            Assert.Throws<InvalidDataException>(() => ModelFile.Load<double>(narrower)).Message);
        var unknownKind = HostileFileTests.Edited(file, header =>
            header["__metadata__"]!["table_schema"] = header["__metadata__"]!["table_schema"]!.GetValue<string>().Replace("\"one_hot\"", "\"hashing\""));
        Assert.Contains("Unknown column encoding 'hashing'", Assert.Throws<InvalidDataException>(() => ModelFile.Load<double>(unknownKind)).Message);
        var badScale = HostileFileTests.Edited(file, header =>
            header["__metadata__"]!["table_schema"] = header["__metadata__"]!["table_schema"]!.GetValue<string>().Replace("\"scale\":", "\"scale\":-"));
        Assert.Contains("must be positive", Assert.Throws<InvalidDataException>(() => ModelFile.Load<double>(badScale)).Message);
    }

    [Fact]
    public void PermutationImportance_IsByRawColumn_AndZeroForAColumnTheModelIgnores()
    {
        // The label is the sign of a; b is noise; c is a category the weights give nothing to.
        var random = new Random(3);
        double[] a = [.. Enumerable.Range(0, 200).Select(_ => random.NextDouble() * 2 - 1)];
        double[] b = [.. Enumerable.Range(0, 200).Select(_ => random.NextDouble())];
        var table = new Table([
            TableColumn.Categorical("y", a.Select(v => v > 0 ? "pos" : "neg")),
            TableColumn.Numeric("a", a),
            TableColumn.Numeric("b", b),
            TableColumn.Categorical("c", Enumerable.Range(0, 200).Select(i => (i % 3).ToString(System.Globalization.CultureInfo.InvariantCulture))),
        ]);
        var schema = TableSchema.Fit(table, "y");
        Assert.Equal(["a", "b", "c=0", "c=1", "c=2"], schema.FeatureNames);
        // Scores: neg = 0, pos = 10·a' (a' the standardized a; its mean is near 0, so the sign is kept for all but a few).
        var score = new LinearScore<double>(5, 2);
        foreach (var parameter in score.Parameters)
            parameter.Value.Span.Clear();
        score.Parameters[0].Value[0, 1] = 10;
        var model = new Classifier<double>(score, SoftmaxCrossEntropyLoss.Instance, schema);
        var importance = model.PermutationImportance(table, repeats: 4, seed: 1);
        Assert.Equal(["a", "b", "c"], importance.Select(f => f.Column).Order());
        Assert.Equal("a", importance[0].Column);
        Assert.True(importance[0].AccuracyDrop > 0.3, importance[0].ToString());
        Assert.All(importance.Skip(1), f => Assert.Equal((0.0, 0.0), (f.AccuracyDrop, f.StandardDeviation)));
        var report = model.Evaluate(table, importanceRepeats: 4, seed: 1);
        Assert.Equal(importance, report.FeatureImportance);
        Assert.Contains("permutation importance", report.ToString());
        Assert.Null(model.Evaluate(table).FeatureImportance);
    }
}
