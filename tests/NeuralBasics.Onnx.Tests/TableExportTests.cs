using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NeuralBasics.Activations;
using NeuralBasics.Csv;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Tables;
using NeuralBasics.Training;

namespace NeuralBasics.Onnx.Tests;

/// <summary>A model trained on a table, exported with its schema: ONNX Runtime takes the raw columns.</summary>
public sealed class TableExportTests
{
    private static readonly Table Penguins = CsvTable.Read(Path.Combine(AppContext.BaseDirectory, "TestData", "penguins.csv"));

    public static TheoryData<UnknownCategory, bool, int> Schemas() => new()
    {
        { UnknownCategory.Zeros, true, 1 },   // missing indicators; every category its own feature
        { UnknownCategory.Other, false, 60 }, // rare islands share "(other)", as do unseen ones
        { UnknownCategory.Error, false, 1 },  // exported as zeros: ONNX cannot refuse a row
    };

    [Theory]
    [MemberData(nameof(Schemas))]
    public void RawColumnsIn_SameClassesAndProbabilitiesWithin1e5(UnknownCategory unknown, bool indicators, int minCount)
    {
        var (train, test) = Penguins.Split("species", 0.25, seed: 3);
        var schema = TableSchema.Fit(train, "species", new TableSchemaOptions
        {
            Ignore = ["year"], UnknownCategories = unknown, MissingIndicators = indicators, MinCategoryCount = minCount,
        });
        var net = new NetworkBuilder<float>(schema.FeatureCount, seed: 1).Dense(8, new Relu()).Dense(3).Build();
        var model = new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.01), new TrainerOptions { Epochs = 30, BatchSize = 16, Seed = 1 })
            .Train(schema.ToDataSet<float>(train)).Model.WithSchema(schema);
        using var stream = new MemoryStream();
        OnnxExport.Save(model, stream);
        using var session = new InferenceSession(stream.ToArray());
        Assert.Equal(["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex"], session.InputMetadata.Keys);

        // The test rows, and one with an island never seen and every value missing.
        var rows = Enumerable.Range(0, test.RowCount).Select(i => test.Columns.ToDictionary(c => c.Name, c => c.Value(i))).ToList();
        rows.Add(new Dictionary<string, object?> { ["island"] = unknown == UnknownCategory.Error ? null : "Atlantis", ["bill_length_mm"] = null,
            ["bill_depth_mm"] = null, ["flipper_length_mm"] = null, ["body_mass_g"] = null, ["sex"] = null });
        var inputs = new List<NamedOnnxValue>();
        foreach (var encoding in schema.Encodings)
        {
            int[] shape = [rows.Count, 1];
            inputs.Add(encoding.InputKind == ColumnKind.Numeric
                ? NamedOnnxValue.CreateFromTensor(encoding.Column, new DenseTensor<float>(rows.Select(r => r[encoding.Column] is double d ? (float)d : float.NaN).ToArray(), shape))
                : NamedOnnxValue.CreateFromTensor(encoding.Column, new DenseTensor<string>(rows.Select(r => r[encoding.Column] as string ?? "").ToArray(), shape)));
        }
        using var outputs = session.Run(inputs);
        float[] probabilities = [.. outputs.Single(o => o.Name == "probabilities").AsEnumerable<float>()];
        var last = rows[^1];
        if (unknown == UnknownCategory.Error)
            last["island"] = "Biscoe";  // a row ours accepts; ONNX's zeros for unseen values are checked in the other cases
        for (int i = 0; i < rows.Count; i++)
        {
            if (i == rows.Count - 1 && unknown == UnknownCategory.Error)
                continue;
            var ours = model.Classify(rows[i]);
            for (int c = 0; c < 3; c++)
                Assert.True(Math.Abs(ours.Probabilities![c] - probabilities[i * 3 + c]) < 1e-5,
                    $"row {i}, class {c}: ours {ours.Probabilities[c]}, ONNX Runtime {probabilities[i * 3 + c]}");
            Assert.Equal(ours.Class, Enumerable.Range(0, 3).MaxBy(c => probabilities[i * 3 + c]));
        }
    }
}
