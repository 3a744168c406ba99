using System.Globalization;
using NeuralBasics;
using NeuralBasics.Activations;
using NeuralBasics.Csv;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Models;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Scoring;
using NeuralBasics.Tables;
using NeuralBasics.Training;

// A business-style table: numbers, categories and NA cells (Palmer penguins, 344 rows).
// Usage: dotnet run -c Release --project samples/NeuralBasics.Tabular [-- --export FOLDER]
//   --export writes the train/test split as CSV for compare_sklearn.py.
string path = Path.Combine(AppContext.BaseDirectory, "penguins.csv");
var table = CsvTable.Read(path);   // kinds inferred; "NA" and empty cells are missing
Console.WriteLine($"{table}\n  {string.Join("\n  ", table.Columns)}");

// Hold out a stratified test part, then a validation part for early stopping.
var (rest, test) = table.Split("species", 0.2, seed: 1);
var (train, validation) = rest.Split("species", 0.2, seed: 2);

// Fitted on the training rows only: numbers mean-imputed (with a missing flag) and standardized,
// categories one-hot (an unseen island becomes all zeros); "year" is no feature.
var schema = TableSchema.Fit(train, "species", new TableSchemaOptions
{
    Ignore = ["year"], MissingIndicators = true, UnknownCategories = UnknownCategory.Zeros,
});
Console.WriteLine($"\nschema: {schema}\n");
var trainSet = schema.ToDataSet<float>(train);
var validationSet = schema.ToDataSet<float>(validation);

var options = new TrainerOptions { Epochs = 300, BatchSize = 16, Seed = 1, EarlyStopping = new EarlyStopping(patience: 30) };
var softmax = Train(new LinearScore<float>(schema.FeatureCount, schema.ClassNames.Count, seed: 1), "softmax regression");
var mlp = Train(new NetworkBuilder<float>(schema.FeatureCount, seed: 1).Dense(16, new Relu()).Dense(schema.ClassNames.Count).Build(), "MLP 16 ReLU");

Classifier<float> Train(IScoreFunction<float> score, string name)
{
    var result = new Trainer<float>(score, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-3), new Adam(0.01), options)
        .Train(trainSet, validationSet);
    var model = result.Model.WithSchema(schema);
    Console.WriteLine($"{name}: best epoch {result.History.BestEpoch}, test accuracy {model.Accuracy(test):P2}");
    return model;
}

// The report, with how much the MLP relies on each column (accuracy lost when it is shuffled).
Console.WriteLine($"\nThe MLP on the test rows:\n{mlp.Evaluate(test, importanceRepeats: 10, seed: 1)}\n");

// Ship it: one file holds the weights and the schema; load it and predict a typed record.
mlp.Save("penguins.safetensors");
var loaded = Classifier<float>.Load("penguins.safetensors");
var mapping = new TableMapping<Penguin>()
    .Category("island", p => p.Island)
    .Number("bill_length_mm", p => p.BillLength)
    .Number("bill_depth_mm", p => p.BillDepth)
    .Number("flipper_length_mm", p => p.FlipperLength)
    .Number("body_mass_g", p => p.BodyMass)
    .Category("sex", p => p.Sex);
var penguin = new Penguin("Biscoe", 47.5, 15.0, 218, BodyMass: null, Sex: "female");
Console.WriteLine($"{penguin} is {loaded.Classify(penguin, mapping)}");
// Or a record by column name, as from a form or a JSON request.
var record = new Dictionary<string, object?> { ["island"] = "Dream", ["bill_length_mm"] = "49.0", ["bill_depth_mm"] = 18.5,
    ["flipper_length_mm"] = 195, ["body_mass_g"] = 3800, ["sex"] = null };
Console.WriteLine($"a Dream penguin with a 49 mm bill is {loaded.Classify(record)}");

if (args is ["--export", var folder])
{
    Directory.CreateDirectory(folder);
    File.WriteAllText(Path.Combine(folder, "train.csv"), Csv(rest));
    File.WriteAllText(Path.Combine(folder, "test.csv"), Csv(test));
    Console.WriteLine($"wrote {folder}/train.csv ({rest.RowCount} rows: training + validation) and test.csv ({test.RowCount})");
}

static string Csv(Table t) =>
    string.Join(",", t.Columns.Select(c => c.Name)) + "\n" + string.Concat(Enumerable.Range(0, t.RowCount).Select(i =>
        string.Join(",", t.Columns.Select(c => c.Value(i) switch
        {
            null => "NA",
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            var v => v.ToString(),
        })) + "\n"));

internal sealed record Penguin(string Island, double? BillLength, double? BillDepth, double? FlipperLength, double? BodyMass, string? Sex);
