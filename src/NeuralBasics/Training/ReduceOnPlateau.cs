namespace NeuralBasics.Training;

/// <summary>
/// Lowers the learning rate when the monitored loss stops improving, as Keras' <c>ReduceLROnPlateau</c>
/// does (PyTorch's waits one bad epoch more, reducing when the count exceeds the patience): after each epoch the validation loss (the training objective when
/// there is no validation set) is compared with the best so far; an epoch that does not beat it by
/// the relative <see cref="Threshold"/> counts against the <see cref="Patience"/>, and when that runs
/// out the learning rate is multiplied by <see cref="Factor"/> (not below <see cref="MinimumScale"/>
/// times the rule's own rate), the count restarts, and <see cref="Cooldown"/> epochs pass before
/// counting again.
/// </summary>
/// <remarks>
/// The reduction multiplies whatever the rule's schedule gives; the multiplier is part of the run's
/// state (<see cref="EpochResult.LearningRateScale"/>) and of its checkpoints, so a resumed run
/// continues exactly.
/// </remarks>
public sealed record ReduceOnPlateau
{
    /// <summary>Creates the policy.</summary>
    /// <param name="factor">The multiplier at each reduction, in (0, 1) (default 0.1).</param>
    /// <param name="patience">Epochs without improvement before a reduction, at least 1 (default 10).</param>
    /// <param name="threshold">The relative improvement that counts: the loss must fall below best·(1 − threshold) (default 1e-4).</param>
    /// <param name="cooldown">Epochs after a reduction before counting resumes (default 0).</param>
    /// <param name="minimumScale">The smallest multiplier, in [0, 1] (default 0: no floor).</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is outside its range.</exception>
    public ReduceOnPlateau(double factor = 0.1, int patience = 10, double threshold = 1e-4, int cooldown = 0, double minimumScale = 0)
    {
        if (!(factor > 0 && factor < 1))
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "The factor must be in (0, 1).");
        if (!(threshold >= 0 && threshold < 1))
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The threshold must be in [0, 1).");
        if (!(minimumScale >= 0 && minimumScale <= 1))
            throw new ArgumentOutOfRangeException(nameof(minimumScale), minimumScale, "The minimum scale must be in [0, 1].");
        Factor = factor;
        Patience = Guard.AtLeast(patience, 1, "The patience", nameof(patience));
        Threshold = threshold;
        Cooldown = Guard.AtLeast(cooldown, 0, "The cooldown", nameof(cooldown));
        MinimumScale = minimumScale;
    }

    /// <summary>The multiplier at each reduction.</summary>
    public double Factor { get; }

    /// <summary>Epochs without improvement before a reduction.</summary>
    public int Patience { get; }

    /// <summary>The relative improvement that counts.</summary>
    public double Threshold { get; }

    /// <summary>Epochs after a reduction before counting resumes.</summary>
    public int Cooldown { get; }

    /// <summary>The smallest multiplier.</summary>
    public double MinimumScale { get; }
}
