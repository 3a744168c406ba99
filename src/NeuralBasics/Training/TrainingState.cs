using System.Numerics;

namespace NeuralBasics.Training;

/// <summary>
/// What the epoch loop carries from one epoch to the next — the epochs done, the shuffling
/// generator, the history and early stopping's best weights, best metric and patience counter —
/// and so exactly what a checkpoint saves (beside the weights and the rule's state) and
/// <see cref="Trainer{T}.Resume"/> restores.
/// </summary>
internal sealed class TrainingState<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Epochs completed.</summary>
    public int Epoch { get; set; }

    /// <summary>The shuffling generator; each epoch's order is a fresh permutation drawn from it alone.</summary>
    public required ShuffleRandom Shuffler { get; init; }

    /// <summary>One result per completed epoch.</summary>
    public TrainingHistory History { get; init; } = new();

    /// <summary>The weights of the best epoch so far (early stopping), one array per parameter tensor.</summary>
    public T[][]? BestWeights { get; set; }

    /// <summary>The best epoch so far, or null.</summary>
    public int? BestEpoch { get; set; }

    /// <summary>The watched metric at <see cref="BestEpoch"/> (NaN before).</summary>
    public double BestMetric { get; set; } = double.NaN;

    /// <summary>Epochs in a row since <see cref="BestEpoch"/>.</summary>
    public int EpochsWithoutImprovement { get; set; }

    /// <summary>The state of a new run.</summary>
    /// <summary>The learning-rate multiplier of reduce-on-plateau (1 until the first reduction).</summary>
    public double LearningRateScale { get; set; } = 1;

    /// <summary>Reduce-on-plateau's best monitored loss (NaN before the first epoch).</summary>
    public double PlateauBest { get; set; } = double.NaN;

    /// <summary>Reduce-on-plateau's epochs without improvement.</summary>
    public int PlateauEpochs { get; set; }

    /// <summary>Reduce-on-plateau's cooldown epochs left.</summary>
    public int PlateauCooldown { get; set; }

    /// <summary>Reduce-on-plateau's bookkeeping after an epoch whose monitored loss is <paramref name="loss"/>.</summary>
    public void RecordForPlateau(ReduceOnPlateau policy, double loss)
    {
        bool improved = double.IsNaN(PlateauBest) || loss < PlateauBest * (1 - policy.Threshold);
        if (improved)
        {
            PlateauBest = loss;
            PlateauEpochs = 0;
        }
        if (PlateauCooldown > 0)
        {
            // Cooling down after a reduction: bad epochs do not count yet.
            PlateauCooldown--;
            return;
        }
        if (!improved && ++PlateauEpochs >= policy.Patience)
        {
            LearningRateScale = Math.Max(LearningRateScale * policy.Factor, policy.MinimumScale);
            PlateauEpochs = 0;
            PlateauCooldown = policy.Cooldown;
        }
    }

    public static TrainingState<T> Start(int seed) => new() { Shuffler = new ShuffleRandom(unchecked((ulong)seed)) };

    /// <summary>
    /// Early stopping's bookkeeping after an epoch: keeps the weights when <paramref name="result"/>
    /// improves the watched metric, else counts against the patience; true when it has run out.
    /// </summary>
    public bool RecordForEarlyStopping(EarlyStopping early, EpochResult result, IReadOnlyList<Parameter<T>> parameters)
    {
        double metric = early.Metric == EarlyStoppingMetric.ValidationLoss ? result.ValidationLoss!.Value : result.ValidationAccuracy!.Value;
        bool improved = BestEpoch is null || (early.Metric == EarlyStoppingMetric.ValidationLoss
            ? metric < BestMetric - early.MinDelta
            : metric > BestMetric + early.MinDelta);
        if (!improved)
            return ++EpochsWithoutImprovement >= early.Patience;
        BestWeights ??= [.. parameters.Select(p => new T[p.Value.Span.Length])];
        for (int k = 0; k < parameters.Count; k++)
            parameters[k].Value.Span.CopyTo(BestWeights[k]);
        BestMetric = metric;
        BestEpoch = result.Epoch;
        EpochsWithoutImprovement = 0;
        return false;
    }

    /// <summary>Puts the best epoch's weights back, when there is one.</summary>
    public void RestoreBest(IReadOnlyList<Parameter<T>> parameters)
    {
        if (BestWeights is null)
            return;
        for (int k = 0; k < parameters.Count; k++)
            BestWeights[k].CopyTo(parameters[k].Value.Span);
        History.BestEpoch = BestEpoch;
    }
}
