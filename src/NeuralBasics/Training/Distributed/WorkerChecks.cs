using System.Numerics;
using NeuralBasics.Data;

namespace NeuralBasics.Training.Distributed;

/// <summary>The checks every distributed worker and trainer makes of its data.</summary>
internal static class WorkerChecks
{
    public static void Data<T>(DataSet<T> data, ReadOnlyMemory<int> rows, IScoreFunction<T> score)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Data(data, score);
        if (rows.IsEmpty)
            throw new ArgumentException("A worker needs at least one row to train on.", nameof(rows));
    }

    public static void Data<T>(DataSet<T> data, IScoreFunction<T> score)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.FeatureCount != score.InputCount || data.ClassCount != score.ClassCount)
            throw new ArgumentException(
                $"The data has {data.FeatureCount} features and {data.ClassCount} classes but {score} takes {score.InputCount} and scores {score.ClassCount}.",
                nameof(data));
    }
}
