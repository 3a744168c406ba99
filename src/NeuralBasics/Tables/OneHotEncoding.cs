using System.Globalization;
using System.Numerics;
using NeuralBasics.Components;

namespace NeuralBasics.Tables;

/// <summary>
/// A categorical column as one feature per category, 1 for the row's category and 0 for the others
/// (scikit-learn's <c>OneHotEncoder</c>, ML.NET's <c>OneHotEncoding</c>). The categories come from
/// the training rows in ordinal order; those seen fewer than a minimum number of times share an
/// "(other)" feature; a missing value has its own "(missing)" feature when the training rows had
/// one. A category never seen in training is refused, all zeros or "(other)", as
/// <see cref="Unknown"/> says.
/// </summary>
public sealed class OneHotEncoding : IColumnEncoding, IOnnxNodes
{
    /// <summary>The feature name suffix of the shared feature of rare (and, by choice, unseen) categories.</summary>
    public const string OtherName = "(other)";

    /// <summary>The feature name suffix of the missing-value feature.</summary>
    public const string MissingName = "(missing)";

    private readonly Dictionary<string, int> _slots;
    private readonly HashSet<string> _rare;

    /// <summary>An encoding with known categories (as loaded from a file).</summary>
    /// <param name="column">The raw column's name.</param>
    /// <param name="categories">The categories with a feature of their own, in feature order.</param>
    /// <param name="rare">Categories seen in training too rarely for a feature of their own: they share "(other)".</param>
    /// <param name="missing">Whether a missing value has its own feature.</param>
    /// <param name="unknown">What an unseen category becomes.</param>
    /// <exception cref="ArgumentException">A category is empty or repeated, or the encoding would write no feature.</exception>
    public OneHotEncoding(string column, IReadOnlyList<string> categories, IReadOnlyList<string> rare, bool missing, UnknownCategory unknown)
    {
        ArgumentException.ThrowIfNullOrEmpty(column);
        ArgumentNullException.ThrowIfNull(categories);
        ArgumentNullException.ThrowIfNull(rare);
        if (!Enum.IsDefined(unknown))
            throw new ArgumentOutOfRangeException(nameof(unknown), unknown, "Not a way to handle unknown categories.");
        Column = column;
        Categories = [.. categories];
        Rare = [.. rare];
        HasMissing = missing;
        Unknown = unknown;
        HasOther = Rare.Count > 0 || unknown == UnknownCategory.Other;
        _slots = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string category in Categories)
        {
            if (string.IsNullOrEmpty(category))
                throw new ArgumentException($"Column '{column}': a category is empty (an empty cell is a missing value).", nameof(categories));
            if (!_slots.TryAdd(category, _slots.Count))
                throw new ArgumentException($"Column '{column}': the category '{category}' is listed twice.", nameof(categories));
        }
        _rare = new HashSet<string>(StringComparer.Ordinal);
        foreach (string category in Rare)
            if (string.IsNullOrEmpty(category) || _slots.ContainsKey(category) || !_rare.Add(category))
                throw new ArgumentException($"Column '{column}': the rare category '{category}' is empty, repeated or also a category of its own.", nameof(rare));
        var names = Categories.Select(c => $"{column}={c}").ToList();
        if (HasOther)
            names.Add($"{column}={OtherName}");
        if (HasMissing)
            names.Add($"{column}={MissingName}");
        if (names.Count == 0)
            throw new ArgumentException($"Column '{column}' would encode to no feature at all.", nameof(categories));
        FeatureNames = names;
    }

    /// <summary>
    /// Fits on the training rows of <paramref name="column"/>: every category seen at least
    /// <paramref name="minimumCount"/> times gets a feature, in ordinal order; the rest share "(other)".
    /// </summary>
    /// <exception cref="ArgumentException">The column is not categorical, has no values at all, or more than <paramref name="maximumCategories"/> categories of its own.</exception>
    public static OneHotEncoding Fit(TableColumn column, int minimumCount = 1, UnknownCategory unknown = UnknownCategory.Error, int maximumCategories = 1000)
    {
        ArgumentNullException.ThrowIfNull(column);
        Guard.AtLeast(minimumCount, 1, "The minimum category count");
        Guard.AtLeast(maximumCategories, 1, "The maximum number of categories");
        if (column.Kind != ColumnKind.Categorical)
            throw new ArgumentException($"Column '{column.Name}' is numeric, not categorical.", nameof(column));
        var counts = new int[column.Levels.Count];
        int missing = 0;
        foreach (int code in column.Codes)
        {
            if (code < 0)
                missing++;
            else
                counts[code]++;
        }
        var seen = Enumerable.Range(0, counts.Length).Where(level => counts[level] > 0).ToList();
        if (seen.Count == 0)
            throw new ArgumentException($"Column '{column.Name}' has no values in the training rows; ignore it.", nameof(column));
        var frequent = seen.Where(level => counts[level] >= minimumCount).Select(level => column.Levels[level]).Order(StringComparer.Ordinal).ToList();
        var rare = seen.Where(level => counts[level] < minimumCount).Select(level => column.Levels[level]).Order(StringComparer.Ordinal).ToList();
        if (frequent.Count > maximumCategories)
            throw new ArgumentException(
                $"Column '{column.Name}' has {frequent.Count} categories in the training rows, more than the maximum of {maximumCategories}. " +
                "An identifier or free text is no category: ignore the column, raise the minimum count, or raise the maximum.", nameof(column));
        return new OneHotEncoding(column.Name, frequent, rare, missing > 0, unknown);
    }

    /// <summary>Reads an encoding from its description.</summary>
    internal static OneHotEncoding Read(ComponentDescription description)
    {
        string unknown = description.Text("unknown");
        try
        {
            return new OneHotEncoding(description.Text("column"), description.Texts("categories"), description.Texts("rare"),
                description.Bool("missing"), unknown switch
                {
                    "error" => UnknownCategory.Error,
                    "zeros" => UnknownCategory.Zeros,
                    "other" => UnknownCategory.Other,
                    _ => throw new InvalidDataException($"'{unknown}' is not a way to handle unknown categories (error, zeros or other)."),
                });
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"A one-hot encoding is invalid: {e.Message}", e);
        }
    }

    /// <inheritdoc/>
    public string Kind => "one_hot";

    /// <inheritdoc/>
    public void Describe(ComponentDescription description)
    {
        description.Set("column", Column);
        description.Set("categories", Categories);
        description.Set("rare", Rare);
        description.Set("missing", HasMissing);
        description.Set("unknown", Unknown.ToString().ToLowerInvariant());
    }

    /// <inheritdoc/>
    public string Column { get; }

    /// <inheritdoc/>
    public ColumnKind InputKind => ColumnKind.Categorical;

    /// <summary>The categories with a feature of their own, in feature order.</summary>
    public IReadOnlyList<string> Categories { get; }

    /// <summary>The categories seen too rarely in training for a feature of their own; they set "(other)".</summary>
    public IReadOnlyList<string> Rare { get; }

    /// <summary>Whether there is an "(other)" feature (after the categories).</summary>
    public bool HasOther { get; }

    /// <summary>Whether a missing value has its own feature (the last).</summary>
    public bool HasMissing { get; }

    /// <summary>What a category never seen in training becomes.</summary>
    public UnknownCategory Unknown { get; }

    /// <inheritdoc/>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>
    /// The feature a value sets: its own category's, "(other)" for a rare one, "(missing)" for a
    /// missing one; −1 for none (an unseen value encoded as zeros).
    /// </summary>
    /// <exception cref="ArgumentException">An unseen value when unknown categories are refused.</exception>
    internal int Slot(string? value, Func<string> where)
    {
        if (string.IsNullOrEmpty(value))
            return HasMissing ? FeatureNames.Count - 1
                : Unseen(() => $"{where()}, column '{Column}': the value is missing, and the training rows had no missing value in this column.");
        if (_slots.TryGetValue(value, out int slot))
            return slot;
        return _rare.Contains(value) ? Categories.Count
            : Unseen(() => $"{where()}, column '{Column}': '{value}' is not one of the categories seen in training ({string.Join(", ", Categories.Concat(Rare))}). " +
                "Fit with UnknownCategory.Zeros or Other to accept new categories.");
    }

    /// <summary>What a value never seen in training becomes: refused with <paramref name="refusal"/>, "(other)", or no feature (−1).</summary>
    private int Unseen(Func<string> refusal) => Unknown switch
    {
        UnknownCategory.Error => throw new ArgumentException(refusal()),
        UnknownCategory.Other => Categories.Count,
        _ => -1,
    };

    /// <inheritdoc/>
    public void Encode<T>(TableColumn column, int firstRow, MatrixSpan<T> destination, int offset)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(column);
        if (column.Kind != ColumnKind.Categorical)
            throw new ArgumentException($"Column '{Column}' should be categorical but the table's is numeric.", nameof(column));
        // One lookup per distinct value of the table's column, then a table lookup per row.
        const int Unresolved = int.MinValue;
        var codes = column.Codes.Slice(firstRow, destination.Rows);
        var levelSlots = new int[column.Levels.Count];
        levelSlots.AsSpan().Fill(Unresolved);
        int missingSlot = Unresolved;
        int width = FeatureNames.Count;
        for (int i = 0; i < codes.Length; i++)
        {
            int code = codes[i], slot;
            if (code < 0)
            {
                if (missingSlot == Unresolved)
                    missingSlot = Slot(null, () => Row(firstRow + i));
                slot = missingSlot;
            }
            else
            {
                if (levelSlots[code] == Unresolved)
                    levelSlots[code] = Slot(column.Levels[code], () => Row(firstRow + i));
                slot = levelSlots[code];
            }
            var features = destination.Row(i).Slice(offset, width);
            features.Clear();
            if (slot >= 0)
                features[slot] = T.One;
        }

        static string Row(int i) => string.Create(CultureInfo.InvariantCulture, $"Row {i}");
    }

    /// <summary>
    /// Writes the encoding as ONNX: from a string input [N, 1] (an empty string for missing), an
    /// <c>ai.onnx.ml</c> LabelEncoder maps each category to its feature (rare ones to "(other)", the
    /// empty string to "(missing)"), and Equal against 0..width−1, cast to float, makes the one-hot
    /// row. An unseen category gives all zeros, or "(other)" when the encoding was fitted so; ONNX
    /// cannot refuse a row, so <see cref="UnknownCategory.Error"/> exports as zeros.
    /// </summary>
    public string AddOnnxNodes(IOnnxGraph graph, string input, string output)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var keys = new List<string>(Categories);
        var slots = new List<long>(Enumerable.Range(0, Categories.Count).Select(i => (long)i));
        keys.AddRange(Rare);
        slots.AddRange(Rare.Select(_ => (long)Categories.Count));
        if (HasMissing)
        {
            keys.Add("");
            slots.Add(FeatureNames.Count - 1);
        }
        long unseen = Unknown == UnknownCategory.Other ? Categories.Count : -1;
        string codes = graph.MlNode("LabelEncoder", [input], $"{output}.codes",
            OnnxAttribute.Strings("keys_strings", [.. keys]), OnnxAttribute.Ints("values_int64s", [.. slots]), OnnxAttribute.Int("default_int64", unseen));
        long[] features = [.. Enumerable.Range(0, FeatureNames.Count).Select(i => (long)i)];
        string hot = graph.Node("Equal", [codes, graph.Initializer($"{output}.slots", [features.Length], features)], $"{output}.hot");
        return graph.Node("Cast", [hot], output, OnnxAttribute.Int("to", 1));
    }

    /// <summary>Shows the column and its categories.</summary>
    public override string ToString() =>
        $"{Column}: one-hot over {string.Join(", ", FeatureNames.Select(n => n[(Column.Length + 1)..]))}, unknown → {Unknown.ToString().ToLowerInvariant()}";
}
