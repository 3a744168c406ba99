namespace NeuralBasics.Optimizers;

/// <summary>Settings of <see cref="Lbfgs"/>.</summary>
public sealed record LbfgsOptions
{
    private readonly int _history = 20, _maxIterations = 1000;
    private readonly double _gradientTolerance = 1e-5, _relativeTolerance = 1e-14;

    /// <summary>
    /// How many recent (step, gradient change) pairs approximate the inverse Hessian: m (default 20;
    /// SciPy and scikit-learn use 10, PyTorch 100). The history holds 2·m vectors of doubles as long
    /// as the parameters: 2.5 MB for softmax regression on 784 pixels, 65 MB for an MLP 784-256-10.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 1.</exception>
    public int History
    {
        get => _history;
        init => _history = Guard.AtLeast(value, 1, "The history length m", nameof(History));
    }

    /// <summary>The most iterations (default 1,000).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 1.</exception>
    public int MaxIterations
    {
        get => _maxIterations;
        init => _maxIterations = Guard.AtLeast(value, 1, "The iteration limit", nameof(MaxIterations));
    }

    /// <summary>Converged once the gradient's largest component, in absolute value, is below this (default 1e-5; SciPy's pgtol).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive and finite.</exception>
    public double GradientTolerance
    {
        get => _gradientTolerance;
        init => _gradientTolerance = Guard.PositiveFinite(value, "The gradient tolerance", nameof(GradientTolerance));
    }

    /// <summary>
    /// Stops when an iteration lowers the objective by less than this relative to it,
    /// (f_k − f_(k+1)) / max(|f_k|, |f_(k+1)|, 1) (default 1e-14, about the 64 machine epsilons scikit-learn passes to SciPy).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive and finite.</exception>
    public double RelativeTolerance
    {
        get => _relativeTolerance;
        init => _relativeTolerance = Guard.PositiveFinite(value, "The relative tolerance", nameof(RelativeTolerance));
    }

    /// <summary>
    /// For a <see cref="Scoring.LinearScore{T}"/>: iterate in standardized coordinates,
    /// <c>W' = diag(σ)·W</c>, <c>b' = b + μᵀW</c> (μ, σ the features' means and deviations), the same
    /// objective as a function of better-scaled variables, so fewer iterations reach a given value
    /// (default true). The result is the same optimum, in the model's own parameters; μ and σ take one
    /// pass over the data at the start, and σ is lifted where λ would dominate (see the remarks of the
    /// solver's documentation).
    /// </summary>
    public bool Standardize { get; init; } = true;

    /// <summary>Stops once the objective is at or below this (default −∞: never), to time how fast a given value is reached.</summary>
    public double TargetObjective { get; init; } = double.NegativeInfinity;
}
