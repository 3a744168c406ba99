using Microsoft.ML;
using Microsoft.ML.Data;
using NeuralBasics.Data;
using NeuralBasics.Training;

namespace NeuralBasics.MLNet;

/// <summary>
/// An ML.NET estimator that trains a NeuralBasics network on an <see cref="IDataView"/>: append it
/// to a pipeline after the label is mapped to a key, and its transformer adds the columns every ML.NET
/// multiclass trainer adds, <c>Score</c> (one value per class: probabilities for softmax models) and
/// <c>PredictedLabel</c> (the key of the highest score), so <c>MulticlassClassification.Evaluate</c>
/// and <c>MapKeyToValue</c> work as with ML.NET's own trainers.
/// </summary>
/// <example>
/// <code>
/// var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
///     .Append(new NeuralBasicsTrainer(ml, new NeuralBasicsTrainerOptions { Trainer = new TrainerOptions { Epochs = 10 } }));
/// var model = pipeline.Fit(train);
/// var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
/// </code>
/// </example>
public sealed class NeuralBasicsTrainer : IEstimator<NeuralBasicsTransformer>
{
    private readonly MLContext _context;

    /// <summary>Creates the trainer.</summary>
    public NeuralBasicsTrainer(MLContext context, NeuralBasicsTrainerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        Options = options ?? new NeuralBasicsTrainerOptions();
    }

    /// <summary>The settings.</summary>
    public NeuralBasicsTrainerOptions Options { get; }

    /// <summary>Reads the features and key labels of <paramref name="input"/> and trains the network on them.</summary>
    /// <exception cref="ArgumentException">A column is missing or of the wrong type, or no row has a label.</exception>
    public NeuralBasicsTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (features, label, classes) = Columns(input.Schema);
        int width = ((VectorDataViewType)features.Type).Size;
        var values = new List<float>();
        var labels = new List<int>();
        using (var cursor = input.GetRowCursor([features, label]))
        {
            var getFeatures = cursor.GetGetter<VBuffer<float>>(features);
            var getLabel = cursor.GetGetter<uint>(label);
            VBuffer<float> row = default;
            uint key = 0;
            while (cursor.MoveNext())
            {
                getLabel(ref key);
                if (key == 0)
                    continue; // a missing label (ML.NET's key 0)
                getFeatures(ref row);
                foreach (float v in row.DenseValues())
                    values.Add(v);
                labels.Add((int)key - 1);
            }
        }
        if (labels.Count == 0)
            throw new ArgumentException("No row of the data has a label.", nameof(input));
        var matrix = new Matrix<float>(labels.Count, width);
        System.Runtime.InteropServices.CollectionsMarshal.AsSpan(values).CopyTo(matrix.Span);
        var data = new DataSet<float>(matrix, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(labels), classes);
        var trainer = new Trainer<float>(Options.Network(width, classes), Options.Loss, Options.Regularizer, Options.Update, Options.Trainer);
        var result = trainer.Train(data);
        return new NeuralBasicsTransformer(_context, result.Model, Options.FeatureColumnName, result.History);
    }

    /// <summary>The input's columns plus Score (a vector of float) and PredictedLabel (a key).</summary>
    /// <exception cref="ArgumentException">The features or the key label column is missing.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var features = inputSchema.FirstOrDefault(c => c.Name == Options.FeatureColumnName);
        if (features.Name is null || features.Kind != SchemaShape.Column.VectorKind.Vector || features.ItemType != NumberDataViewType.Single)
            throw new ArgumentException($"The data needs a column \"{Options.FeatureColumnName}\" holding a vector of float of known size.", nameof(inputSchema));
        var label = inputSchema.FirstOrDefault(c => c.Name == Options.LabelColumnName);
        if (label.Name is null || !label.IsKey)
            throw new ArgumentException($"The data needs a key column \"{Options.LabelColumnName}\" (map the label with MapValueToKey).", nameof(inputSchema));
        // The shape of the mapping the transformer will apply (the sizes do not enter a shape).
        return NeuralBasicsTransformer.Mapping(_context, null, Options.FeatureColumnName, 1, 2).GetOutputSchema(inputSchema);
    }

    private (DataViewSchema.Column Features, DataViewSchema.Column Label, int Classes) Columns(DataViewSchema schema)
    {
        var features = schema.GetColumnOrNull(Options.FeatureColumnName)
            ?? throw new ArgumentException($"The data has no column \"{Options.FeatureColumnName}\".");
        if (features.Type is not VectorDataViewType { ItemType: NumberDataViewType { RawType: var raw }, Size: > 0 } || raw != typeof(float))
            throw new ArgumentException($"The column \"{Options.FeatureColumnName}\" must be a vector of float of known size, not {features.Type}.");
        var label = schema.GetColumnOrNull(Options.LabelColumnName)
            ?? throw new ArgumentException($"The data has no column \"{Options.LabelColumnName}\".");
        if (label.Type is not KeyDataViewType key || key.RawType != typeof(uint))
            throw new ArgumentException($"The column \"{Options.LabelColumnName}\" must be a key (map it with MapValueToKey), not {label.Type}.");
        return (features, label, (int)key.Count);
    }
}
