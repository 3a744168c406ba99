using Microsoft.ML.Data;
using Microsoft.ML;
using NeuralBasics.Models;
using NeuralBasics.Training;

namespace NeuralBasics.MLNet;

/// <summary>
/// A trained NeuralBasics model inside an ML.NET pipeline: adds <c>Score</c> (probabilities for a
/// softmax model, class scores otherwise) and <c>PredictedLabel</c> (the key of the highest score).
/// Built on ML.NET's custom mapping, so it composes with every other transformer. Save the model
/// itself with <see cref="Classifier{T}.Save(string)"/> (or export it to ONNX with NeuralBasics.Onnx):
/// ML.NET's model file cannot hold it.
/// </summary>
public sealed class NeuralBasicsTransformer : ITransformer
{
    private readonly ITransformer _mapping;

    internal NeuralBasicsTransformer(MLContext context, Classifier<float> model, string featureColumn, TrainingHistory history)
    {
        Model = model;
        History = history;
        var input = InputDefinition(featureColumn, model.InputCount);
        var estimator = Mapping(context, model, featureColumn, model.InputCount, model.ClassCount);
        _mapping = estimator.Fit(context.Data.LoadFromEnumerable(Array.Empty<FeaturesRow>(), input));
    }

    private static SchemaDefinition InputDefinition(string featureColumn, int inputs)
    {
        var input = SchemaDefinition.Create(typeof(FeaturesRow));
        input[nameof(FeaturesRow.Features)].ColumnName = featureColumn;
        input[nameof(FeaturesRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, inputs);
        return input;
    }

    /// <summary>The custom mapping from features to Score and PredictedLabel (a null model only describes the schema).</summary>
    internal static IEstimator<ITransformer> Mapping(MLContext context, Classifier<float>? model, string featureColumn, int inputs, int classes)
    {
        var output = SchemaDefinition.Create(typeof(PredictionRow));
        output[nameof(PredictionRow.Score)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, classes);
        output[nameof(PredictionRow.PredictedLabel)].ColumnType = new KeyDataViewType(typeof(uint), classes);
        bool probabilities = model?.HasProbabilities ?? false;
        return context.Transforms.CustomMapping<FeaturesRow, PredictionRow>((row, prediction) =>
        {
            prediction.Score ??= new float[classes];
            if (model is null)
                return;
            if (probabilities)
                model.Probabilities(row.Features, prediction.Score);
            else
                model.Scores(row.Features, prediction.Score);
            prediction.PredictedLabel = (uint)System.Numerics.Tensors.TensorPrimitives.IndexOfMax<float>(prediction.Score) + 1;
        }, contractName: null, inputSchemaDefinition: InputDefinition(featureColumn, inputs), outputSchemaDefinition: output);
    }

    /// <summary>The trained NeuralBasics model.</summary>
    public Classifier<float> Model { get; }

    /// <summary>The training history (loss and accuracy per epoch).</summary>
    public TrainingHistory History { get; }

    /// <inheritdoc/>
    public bool IsRowToRowMapper => true;

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _mapping.GetOutputSchema(inputSchema);

    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => _mapping.GetRowToRowMapper(inputSchema);

    /// <inheritdoc/>
    public IDataView Transform(IDataView input) => _mapping.Transform(input);

    /// <summary>Not supported: ML.NET's model file cannot hold a NeuralBasics network; save <see cref="Model"/> instead.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw new NotSupportedException("Save the NeuralBasics model with Model.Save (or export it with NeuralBasics.Onnx); ML.NET's model file cannot hold it.");

    /// <summary>The mapping's input row.</summary>
    public sealed class FeaturesRow
    {
        /// <summary>The features.</summary>
        public float[] Features { get; set; } = [];
    }

    /// <summary>The mapping's output row.</summary>
    public sealed class PredictionRow
    {
        /// <summary>Probabilities (softmax models) or scores, one per class.</summary>
        public float[] Score { get; set; } = null!;

        /// <summary>The key (1-based) of the highest score.</summary>
        public uint PredictedLabel { get; set; }
    }
}
