namespace NeuralBasics.Tables;

/// <summary>How <see cref="TableSchema.Fit"/> encodes a table's columns.</summary>
public sealed record TableSchemaOptions
{
    /// <summary>What replaces a missing number (default: the column's mean).</summary>
    public NumericImputation Imputation { get; init; } = NumericImputation.Mean;

    /// <summary>Whether every numeric column with a missing value in the training rows also gets a 0/1 "missing" feature (default false).</summary>
    public bool MissingIndicators { get; init; }

    /// <summary>A category seen fewer times than this in the training rows shares the "(other)" feature (default 1: every category gets its own).</summary>
    public int MinCategoryCount { get; init; } = 1;

    /// <summary>What a category never seen in training becomes at prediction time (default: refused).</summary>
    public UnknownCategory UnknownCategories { get; init; } = UnknownCategory.Error;

    /// <summary>The most categories of its own a column may have (default 1,000): more suggests an identifier, not a category.</summary>
    public int MaxCategories { get; init; } = 1000;

    /// <summary>
    /// The classes in index order. When null: a text label's distinct values in ordinal order, or a
    /// numeric label's whole numbers 0, 1, ... up to the largest.
    /// </summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>Columns that are not features (identifiers, notes, leaks of the label).</summary>
    public IReadOnlyCollection<string>? Ignore { get; init; }
}
