using System.Numerics;
using NeuralBasics.Components;

namespace NeuralBasics.Tables;

/// <summary>
/// How one raw column becomes model features: fitted on the training rows, saved inside the model
/// file (it describes itself, and a reader for its kind is registered with
/// <see cref="Serialization.ComponentRegistry.RegisterColumnEncoding"/>), applied unchanged to
/// every later row. The library's are <see cref="NumericEncoding"/> (impute, standardize, an
/// optional missing indicator) and <see cref="OneHotEncoding"/>.
/// </summary>
public interface IColumnEncoding : IDescribedComponent
{
    /// <summary>The name of the raw column it reads.</summary>
    string Column { get; }

    /// <summary>The kind of raw column it reads (<see cref="ColumnKind.Numeric"/> or <see cref="ColumnKind.Categorical"/>).</summary>
    ColumnKind InputKind { get; }

    /// <summary>A name per feature it writes (their count is its width), such as <c>island=Biscoe</c>.</summary>
    IReadOnlyList<string> FeatureNames { get; }

    /// <summary>
    /// Writes the features of rows [<paramref name="firstRow"/>, firstRow + destination.Rows) of
    /// <paramref name="column"/> into columns [<paramref name="offset"/>, offset + width) of
    /// <paramref name="destination"/>, one destination row per table row. (A schema calls it on
    /// blocks of rows, so the block of the destination stays in cache while every encoding writes it.)
    /// </summary>
    /// <exception cref="ArgumentException">The column is of the wrong kind, or holds a value the encoding refuses (an unseen category, when fitted to refuse them); the message names the column and the row.</exception>
    void Encode<T>(TableColumn column, int firstRow, MatrixSpan<T> destination, int offset)
        where T : unmanaged, IFloatingPointIeee754<T>;
}
