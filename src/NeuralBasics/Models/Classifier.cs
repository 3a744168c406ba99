using System.Numerics.Tensors;
using System.Numerics;
using NeuralBasics.Data;
using NeuralBasics.Evaluation;
using NeuralBasics.Kernels;
using NeuralBasics.Losses;
using NeuralBasics.Tables;

namespace NeuralBasics.Models;

/// <summary>
/// A trained classifier: a frozen score function and the loss it was trained with. It never
/// changes after training, and <see cref="Predict(Matrix{T})"/> and the other methods are safe to
/// call from many threads at once (each concurrent caller borrows its own copy of the network,
/// since networks keep work buffers).
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class Classifier<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IScoreFunction<T> _score;
    private readonly System.Collections.Concurrent.ConcurrentBag<IScoreFunction<T>> _copies = [];
    private ThreadLocal<RowScorer>? _rows;

    /// <summary>Wraps a copy of <paramref name="score"/>, so later changes to it do not reach this model.</summary>
    /// <param name="score">The trained score function (copied).</param>
    /// <param name="loss">The loss it was trained with.</param>
    /// <param name="standardizer">Applied to features before scoring, when the model was trained on standardized data.</param>
    /// <param name="classNames">A name per class, for display; null for none.</param>
    /// <exception cref="ArgumentException">The standardizer's width or the number of class names does not match the score function.</exception>
    public Classifier(IScoreFunction<T> score, ILoss loss, Standardizer? standardizer = null, IReadOnlyList<string>? classNames = null)
        : this(score, loss, standardizer, classNames, schema: null)
    {
    }

    /// <summary>
    /// Wraps a copy of <paramref name="score"/>, trained on the features <paramref name="schema"/>
    /// makes of a table: the model then predicts from tables and records (<see cref="Classify(IReadOnlyDictionary{string, object?})"/>),
    /// and its class names are the schema's.
    /// </summary>
    /// <param name="score">The trained score function (copied).</param>
    /// <param name="loss">The loss it was trained with.</param>
    /// <param name="schema">The preprocessing its features came from.</param>
    /// <exception cref="ArgumentException">The schema's feature or class count does not match the score function.</exception>
    public Classifier(IScoreFunction<T> score, ILoss loss, TableSchema schema)
        : this(score, loss, null, (schema ?? throw new ArgumentNullException(nameof(schema))).ClassNames, schema)
    {
    }

    private Classifier(IScoreFunction<T> score, ILoss loss, Standardizer? standardizer, IReadOnlyList<string>? classNames, TableSchema? schema)
    {
        ArgumentNullException.ThrowIfNull(score);
        ArgumentNullException.ThrowIfNull(loss);
        if (schema is not null && schema.FeatureCount != score.InputCount)
            throw new ArgumentException(
                $"The schema makes {schema.FeatureCount} features but the model takes {score.InputCount}.", nameof(schema));
        if (schema is not null && standardizer is not null)
            throw new ArgumentException("A model with a table schema standardizes through it; it takes no separate standardizer.", nameof(standardizer));
        if (standardizer is not null && standardizer.FeatureCount != score.InputCount)
            throw new ArgumentException(
                $"The standardizer was fitted on {standardizer.FeatureCount} features but the model takes {score.InputCount}.", nameof(standardizer));
        if (classNames is not null && classNames.Count != score.ClassCount)
            throw new ArgumentException($"There are {classNames.Count} class names for {score.ClassCount} classes.", nameof(classNames));
        _score = score.Clone();
        Loss = loss;
        Standardizer = standardizer;
        ClassNames = classNames is null ? null : [.. classNames];
        Schema = schema;
    }

    /// <summary>The table preprocessing the model's features come from, if it was trained on a table.</summary>
    public TableSchema? Schema { get; }

    /// <summary>The same model with the table preprocessing <paramref name="schema"/> attached (class names from it).</summary>
    /// <exception cref="ArgumentException">The schema's feature or class count does not match, or the model has a standardizer.</exception>
    public Classifier<T> WithSchema(TableSchema schema) => new(_score, Loss, schema);

    /// <summary>The standardization applied to features before scoring, if any.</summary>
    public Standardizer? Standardizer { get; }

    /// <summary>The class names, if given.</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    /// <summary>The same model with a standardizer and class names attached (it shares nothing mutable).</summary>
    /// <exception cref="ArgumentException">The model has a table schema (which standardizes) and a standardizer is given.</exception>
    public Classifier<T> WithPreprocessing(Standardizer? standardizer, IReadOnlyList<string>? classNames = null) =>
        new(_score, Loss, standardizer, classNames ?? ClassNames, Schema);

    /// <summary>
    /// A trainable copy of the score function, to train further (fine-tuning) with a
    /// <see cref="Training.Trainer{T}"/>; the model itself never changes.
    /// </summary>
    public IScoreFunction<T> CopyScoreFunction() => _score.Clone();

    /// <summary>Saves the model (architecture, weights, loss, standardizer, class names) to one safetensors file, atomically.</summary>
    public void Save(string path) => ModelFile.Save(this, path);

    /// <summary>Loads a model saved by <see cref="Save(string)"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a well-formed NeuralBasics model of this element type.</exception>
    public static Classifier<T> Load(string path) => ModelFile.Load<T>(path);

    /// <summary>Writes the model to <paramref name="stream"/> (see <see cref="ModelFile.Save{T}(Classifier{T}, Stream)"/>).</summary>
    public void Save(Stream stream) => ModelFile.Save(this, stream);

    /// <summary>Reads a model from <paramref name="stream"/> (see <see cref="ModelFile.Load{T}(Stream)"/>).</summary>
    public static Classifier<T> Load(Stream stream) => ModelFile.Load<T>(stream);

    /// <summary>The loss the model was trained with.</summary>
    public ILoss Loss { get; }

    /// <summary>D, the number of features per sample.</summary>
    public int InputCount => _score.InputCount;

    /// <summary>C, the number of classes.</summary>
    public int ClassCount => _score.ClassCount;

    /// <summary>True when the model gives class probabilities (it was trained with softmax cross-entropy).</summary>
    public bool HasProbabilities => Loss is SoftmaxCrossEntropyLoss;

    /// <summary>A copy of the parameter values, by name ("W", "b", ...).</summary>
    public IReadOnlyDictionary<string, Matrix<T>> ParameterValues() =>
        _score.Parameters.ToDictionary(p => p.Name, p => p.Value.Clone());

    /// <summary>The frozen score function, for the serializer (never handed out: it must not change).</summary>
    internal IScoreFunction<T> FrozenScore => _score;

    /// <summary>The N x C class scores of the N x D <paramref name="features"/> (standardized first when the model has a standardizer).</summary>
    /// <exception cref="ArgumentException">The feature count differs from the model's.</exception>
    public Matrix<T> Scores(Matrix<T> features)
    {
        if (features.Columns != InputCount)
            throw new ArgumentException($"The features {features} have {features.Columns} columns but the model takes {InputCount}.", nameof(features));
        if (Standardizer is not null)
            features = Standardizer.Transform(features);
        var scores = new Matrix<T>(features.Rows, ClassCount);
        if (!_copies.TryTake(out var copy))
            copy = _score.Clone();
        try
        {
            // Rows scored per forward pass, so a large data set does not make the network's buffers huge.
            int chunkRows = Layers.ScoringChunks.Rows(copy);
            for (int start = 0; start < features.Rows; start += chunkRows)
            {
                int rows = Math.Min(chunkRows, features.Rows - start);
                copy.Forward(features.AsReadOnlySpan().SliceRows(start, rows), scores.AsSpan().SliceRows(start, rows));
            }
        }
        finally
        {
            _copies.Add(copy);
        }
        return scores;
    }

    /// <summary>The predicted class of each row of <paramref name="features"/>: the index of its highest score.</summary>
    /// <exception cref="ArgumentException">The feature count differs from the model's.</exception>
    public int[] Predict(Matrix<T> features)
    {
        var classes = new int[features.Rows];
        RowOps.RowArgMax(Scores(features).AsReadOnlySpan(), classes);
        return classes;
    }

    /// <summary>The N x C class probabilities (row-wise softmax of the scores).</summary>
    /// <exception cref="InvalidOperationException">The model was not trained with softmax cross-entropy, so its scores are not log-probabilities.</exception>
    public Matrix<T> Probabilities(Matrix<T> features)
    {
        if (!HasProbabilities)
            throw new InvalidOperationException(
                $"This model was trained with {Loss}; only a model trained with SoftmaxCrossEntropyLoss gives probabilities. Use Scores or Predict.");
        var scores = Scores(features);
        RowOps.SoftmaxRows(scores.AsReadOnlySpan(), scores.AsSpan());
        return scores;
    }

    /// <summary>
    /// The class scores of one sample, <paramref name="features"/> (standardized first when the model
    /// has a standardizer), into <paramref name="destination"/>. Allocates nothing once warm: each
    /// thread keeps its own copy of the network and buffers. The same values as that row's scores
    /// from <see cref="Scores(Matrix{T})"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths do not match the model's inputs and classes.</exception>
    public void Scores(ReadOnlySpan<T> features, Span<T> destination)
    {
        if (destination.Length != ClassCount)
            throw new ArgumentException($"The destination holds {destination.Length} values but the model has {ClassCount} classes.", nameof(destination));
        Row().Score(this, features, destination);
    }

    /// <summary>The predicted class of one sample: the index of its highest score. Allocates nothing once warm.</summary>
    /// <exception cref="ArgumentException">The feature count differs from the model's.</exception>
    public int Predict(ReadOnlySpan<T> features)
    {
        var row = Row();
        var scores = row.Scores;
        row.Score(this, features, scores);
        return TensorPrimitives.IndexOfMax<T>(scores);
    }

    /// <summary>The class probabilities of one sample (softmax of its scores) into <paramref name="destination"/>. Allocates nothing once warm.</summary>
    /// <exception cref="InvalidOperationException">The model was not trained with softmax cross-entropy.</exception>
    /// <exception cref="ArgumentException">The lengths do not match the model's inputs and classes.</exception>
    public void Probabilities(ReadOnlySpan<T> features, Span<T> destination)
    {
        if (!HasProbabilities)
            throw new InvalidOperationException(
                $"This model was trained with {Loss}; only a model trained with SoftmaxCrossEntropyLoss gives probabilities. Use Scores or Predict.");
        Scores(features, destination);
        RowOps.SoftmaxRows<T>(new ReadOnlyMatrixSpan<T>(destination, 1, ClassCount), new MatrixSpan<T>(destination, 1, ClassCount));
    }

    private RowScorer Row()
    {
        var rows = Volatile.Read(ref _rows);
        if (rows is null)
        {
            Interlocked.CompareExchange(ref _rows, new ThreadLocal<RowScorer>(() => new RowScorer(_score.Clone(), InputCount, ClassCount)), null);
            rows = _rows;
        }
        return rows!.Value!;
    }

    /// <summary>One thread's copy of the network and its one-row buffers.</summary>
    private sealed class RowScorer(IScoreFunction<T> score, int inputs, int classes)
    {
        private readonly T[] _input = new T[inputs];

        public T[] Scores { get; } = new T[classes];

        public void Score(Classifier<T> model, ReadOnlySpan<T> features, Span<T> destination)
        {
            if (features.Length != _input.Length)
                throw new ArgumentException($"The sample has {features.Length} features but the model takes {_input.Length}.", nameof(features));
            features.CopyTo(_input);
            model.Standardizer?.TransformInPlace(new MatrixSpan<T>(_input, 1, _input.Length));
            score.Forward(new ReadOnlyMatrixSpan<T>(_input, 1, _input.Length), new MatrixSpan<T>(destination, 1, destination.Length));
        }
    }

    /// <summary>
    /// The prediction for one record: column name → value (a number, a string, or null for missing),
    /// encoded by the model's <see cref="Schema"/>. Columns the model does not read are ignored.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model has no table schema.</exception>
    /// <exception cref="ArgumentException">A column the model reads is absent, a number is not a number, or a category is refused; the message names the column.</exception>
    public Prediction Classify(IReadOnlyDictionary<string, object?> record) => Classify(RequireSchema().RecordTable(record))[0];

    /// <summary>The prediction for one object of your own type, read through <paramref name="mapping"/>.</summary>
    /// <exception cref="InvalidOperationException">The model has no table schema.</exception>
    /// <exception cref="ArgumentException">As <see cref="Classify(IReadOnlyDictionary{string, object?})"/>.</exception>
    public Prediction Classify<TRow>(TRow row, TableMapping<TRow> mapping)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        return Classify(mapping.ToRecord(row));
    }

    /// <summary>The prediction for each of <paramref name="rows"/>, read through <paramref name="mapping"/>, in one batch.</summary>
    /// <exception cref="InvalidOperationException">The model has no table schema.</exception>
    /// <exception cref="ArgumentException">As <see cref="Classify(Table)"/>.</exception>
    public Prediction[] Classify<TRow>(IEnumerable<TRow> rows, TableMapping<TRow> mapping)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        return Classify(mapping.ToTable(rows));
    }

    /// <summary>The prediction for every row of <paramref name="table"/> (its label column, if any, is not read).</summary>
    /// <exception cref="InvalidOperationException">The model has no table schema.</exception>
    /// <exception cref="ArgumentException">A column the model reads is absent or of the other kind, or holds a refused category.</exception>
    public Prediction[] Classify(Table table)
    {
        var scores = Scores(RequireSchema().Transform<T>(table));
        var classes = new int[scores.Rows];
        RowOps.RowArgMax(scores.AsReadOnlySpan(), classes);
        Matrix<T>? probabilities = null;
        if (HasProbabilities)
        {
            probabilities = new Matrix<T>(scores.Rows, ClassCount);
            RowOps.SoftmaxRows(scores.AsReadOnlySpan(), probabilities.Value.AsSpan());
        }
        var predictions = new Prediction[scores.Rows];
        for (int i = 0; i < predictions.Length; i++)
        {
            predictions[i] = new Prediction(classes[i], ClassNames?[classes[i]], Doubles(scores.Row(i)),
                probabilities is { } p ? Doubles(p.Row(i)) : null);
        }
        return predictions;

        static double[] Doubles(ReadOnlySpan<T> values)
        {
            var result = new double[values.Length];
            for (int c = 0; c < values.Length; c++)
                result[c] = double.CreateChecked(values[c]);
            return result;
        }
    }

    /// <summary>The fraction of the rows of <paramref name="table"/> classified as its label column says.</summary>
    /// <exception cref="InvalidOperationException">The model has no table schema.</exception>
    /// <exception cref="ArgumentException">As <see cref="TableSchema.ToDataSet{T}(Table)"/>.</exception>
    public double Accuracy(Table table) => Accuracy(RequireSchema().ToDataSet<T>(table));

    /// <summary>
    /// Evaluates the model on the rows of <paramref name="table"/> against its label column (see
    /// <see cref="Evaluate(DataSet{T})"/>); with <paramref name="importanceRepeats"/> above 0, the
    /// report also holds each raw column's permutation importance (<see cref="PermutationImportance"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">The model has no table schema.</exception>
    /// <exception cref="ArgumentException">As <see cref="TableSchema.ToDataSet{T}(Table)"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The repeats are negative.</exception>
    public EvaluationReport Evaluate(Table table, int importanceRepeats = 0, int seed = 0)
    {
        Guard.AtLeast(importanceRepeats, 0, "The number of shuffles");
        var report = Evaluate(RequireSchema().ToDataSet<T>(table));
        return importanceRepeats == 0 ? report : report.WithFeatureImportance(PermutationImportance(table, importanceRepeats, seed));
    }

    /// <summary>
    /// Each raw column's permutation importance on <paramref name="table"/> (a validation or test
    /// part, never the training rows): the accuracy lost when that column's values are shuffled among
    /// the rows, <paramref name="repeats"/> times with shuffles drawn from <paramref name="seed"/>;
    /// most important first. A one-hot column counts once, by its name.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model has no table schema.</exception>
    /// <exception cref="ArgumentException">As <see cref="TableSchema.ToDataSet{T}(Table)"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The repeats are below 1.</exception>
    public IReadOnlyList<FeatureImportance> PermutationImportance(Table table, int repeats = 5, int seed = 0)
    {
        var schema = RequireSchema();
        ArgumentNullException.ThrowIfNull(table);
        Guard.AtLeast(repeats, 1, "The number of shuffles");
        int[] labels = schema.Labels(table);
        double baseline = Metrics.Accuracy(Predict(schema.Transform<T>(table)), labels);
        var random = new Random(seed);
        var importance = new List<FeatureImportance>();
        foreach (var encoding in schema.Encodings)
        {
            var drops = new double[repeats];
            for (int r = 0; r < repeats; r++)
            {
                int[] order = [.. Enumerable.Range(0, table.RowCount)];
                random.Shuffle(order);
                var shuffled = new Table(table.Columns.Select(c => c.Name == encoding.Column ? c.Select(order) : c));
                drops[r] = baseline - Metrics.Accuracy(Predict(schema.Transform<T>(shuffled)), labels);
            }
            double mean = drops.Average();
            importance.Add(new FeatureImportance(encoding.Column, mean, Math.Sqrt(drops.Sum(d => (d - mean) * (d - mean)) / repeats)));
        }
        return [.. importance.OrderByDescending(f => f.AccuracyDrop)];
    }

    private TableSchema RequireSchema() => Schema ?? throw new InvalidOperationException(
        "This model has no table schema: it takes feature vectors. Fit a TableSchema on the training table and build the model with it to predict from tables and records.");

    /// <summary>The fraction of <paramref name="data"/> classified correctly.</summary>
    /// <exception cref="ArgumentException">The data's feature or class count differs from the model's.</exception>
    public double Accuracy(DataSet<T> data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.ClassCount != ClassCount)
            throw new ArgumentException($"The data has {data.ClassCount} classes but the model has {ClassCount}.", nameof(data));
        return Metrics.Accuracy(Predict(data.Features), data.Labels);
    }

    /// <summary>
    /// Evaluates the model on <paramref name="data"/>: accuracy, confusion matrix, per-class
    /// precision, recall and F1 with macro and weighted averages, top-k accuracy, and log-loss when
    /// the model gives probabilities (see <see cref="EvaluationReport"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The data's feature or class count differs from the model's.</exception>
    public EvaluationReport Evaluate(DataSet<T> data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.ClassCount != ClassCount)
            throw new ArgumentException($"The data has {data.ClassCount} classes but the model has {ClassCount}.", nameof(data));
        var scores = Scores(data.Features);
        return EvaluationReport.FromScores(scores.AsReadOnlySpan(), data.Labels, HasProbabilities, ClassNames);
    }

    /// <summary>Shows the score function and loss.</summary>
    public override string ToString() => $"Classifier({_score}, {Loss})";
}
