namespace NeuralBasics.Tables;

/// <summary>What a table column holds.</summary>
public enum ColumnKind
{
    /// <summary>Numbers (a missing cell is <see cref="double.NaN"/>).</summary>
    Numeric,

    /// <summary>Text values from a set of categories (a missing cell is null).</summary>
    Categorical,

    /// <summary>Not read at all: a reader skips the column (an identifier, a free-text note).</summary>
    Ignored,
}
