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
        var inValidation = ValidationMask(data.Labels, data.ClassCount, validationFraction, seed);
        return (Subset(data, inValidation, false), Subset(data, inValidation, true));
    }

    /// <summary>
    /// Stratified k-fold cross-validation: every sample lands in exactly one of <paramref name="k"/>
    /// validation folds, and each class is dealt round the folds in a random order (seeded), so the
    /// folds' class counts differ by at most one. Fold f is (all other folds, fold f); each is built
    /// only when enumerated, so at most one copy of the data is held at a time by the caller.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is below 2 or above the sample count.</exception>
    public static IEnumerable<(DataSet<T> Train, DataSet<T> Validation)> StratifiedFolds<T>(DataSet<T> data, int k, int seed = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(data);
        Guard.AtLeast(k, 2, "The number of folds", nameof(k));
        if (k > data.Count)
            throw new ArgumentOutOfRangeException(nameof(k), k, $"{k} folds need at least {k} samples; the data has {data.Count}.");
        int[] fold = FoldOf(data, k, seed);
        return Enumerate();

        IEnumerable<(DataSet<T>, DataSet<T>)> Enumerate()
        {
            for (int f = 0; f < k; f++)
            {
                var inValidation = fold.Select(x => x == f).ToArray();
                yield return (Subset(data, inValidation, false), Subset(data, inValidation, true));
            }
        }
    }

    /// <summary>
    /// Which samples a stratified split puts in the validation part: each group contributes
    /// <c>round(fraction·count)</c> of its members, shuffled with <paramref name="seed"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The fraction is not strictly between 0 and 1.</exception>
    /// <exception cref="ArgumentException">One of the parts would be empty.</exception>
    internal static bool[] ValidationMask(ReadOnlySpan<int> groups, int groupCount, double validationFraction, int seed)
    {
        if (!(validationFraction > 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "The validation fraction must be strictly between 0 and 1.");
        var random = new Random(seed);
        var inValidation = new bool[groups.Length];
        for (int c = 0; c < groupCount; c++)
        {
            var members = new List<int>();
            for (int i = 0; i < groups.Length; i++)
                if (groups[i] == c)
                    members.Add(i);
            int take = (int)Math.Round(validationFraction * members.Count, MidpointRounding.AwayFromZero);
            var chosen = members.ToArray();
            random.Shuffle(chosen);
            foreach (int i in chosen.AsSpan(0, take))
                inValidation[i] = true;
        }
        int validationCount = inValidation.Count(v => v);
        if (validationCount == 0 || validationCount == groups.Length)
            throw new ArgumentException(
                $"A validation fraction of {validationFraction} of {groups.Length} samples leaves one part empty.", nameof(validationFraction));
        return inValidation;
    }

    /// <summary>Each sample's fold: each class shuffled, then dealt round-robin, starting where the previous class stopped.</summary>
    private static int[] FoldOf<T>(DataSet<T> data, int k, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        var fold = new int[data.Count];
        int next = 0;
        for (int c = 0; c < data.ClassCount; c++)
        {
            var members = Enumerable.Range(0, data.Count).Where(i => data.Labels[i] == c).ToArray();
            random.Shuffle(members);
            foreach (int i in members)
            {
                fold[i] = next;
                next = (next + 1) % k;
            }
        }
        return fold;
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
