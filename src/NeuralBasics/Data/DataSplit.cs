using System.Numerics;

namespace NeuralBasics.Data;

/// <summary>Splitting a data set into training and validation parts.</summary>
public static class DataSplit
{
    /// <summary>
    /// A stratified split: each class contributes <c>round(fraction·count)</c> of its samples,
    /// chosen at random with <paramref name="seed"/>, to the validation part, so both parts keep the
    /// class proportions. Samples keep their original order within each part.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The fraction is not strictly between 0 and 1.</exception>
    /// <exception cref="ArgumentException">One of the parts would be empty.</exception>
    public static (DataSet<T> Train, DataSet<T> Validation) Stratified<T>(DataSet<T> data, double validationFraction, int seed = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!(validationFraction > 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "The validation fraction must be strictly between 0 and 1.");

        var random = new Random(seed);
        var inValidation = new bool[data.Count];
        for (int c = 0; c < data.ClassCount; c++)
        {
            var members = new List<int>();
            for (int i = 0; i < data.Count; i++)
                if (data.Labels[i] == c)
                    members.Add(i);
            int take = (int)Math.Round(validationFraction * members.Count, MidpointRounding.AwayFromZero);
            var chosen = members.ToArray();
            random.Shuffle(chosen);
            foreach (int i in chosen.AsSpan(0, take))
                inValidation[i] = true;
        }
        int validationCount = inValidation.Count(v => v);
        if (validationCount == 0 || validationCount == data.Count)
            throw new ArgumentException(
                $"A validation fraction of {validationFraction} of {data.Count} samples leaves one part empty.", nameof(validationFraction));
        return (Subset(data, inValidation, false), Subset(data, inValidation, true));
    }

    private static DataSet<T> Subset<T>(DataSet<T> data, bool[] inValidation, bool wanted)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int count = inValidation.Count(v => v == wanted);
        var features = new Matrix<T>(count, data.FeatureCount);
        var labels = new int[count];
        for (int i = 0, k = 0; i < data.Count; i++)
        {
            if (inValidation[i] != wanted)
                continue;
            data.Features.Row(i).CopyTo(features.Row(k));
            labels[k++] = data.Labels[i];
        }
        return new DataSet<T>(features, labels, data.ClassCount);
    }
}
