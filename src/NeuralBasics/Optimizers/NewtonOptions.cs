namespace NeuralBasics.Optimizers;

/// <summary>Settings of <see cref="NewtonMethod"/>.</summary>
public sealed record NewtonOptions
{
    private readonly int _maxParameters = 3000, _maxIterations = 100;
    private readonly double _gradientTolerance = 1e-10;
    private readonly LearningRateSchedule _learningRate = new ConstantLearningRate(1.0);

    /// <summary>The line search's first step length by iteration (default 1, the full Newton step).</summary>
    public LearningRateSchedule LearningRate
    {
        get => _learningRate;
        init => _learningRate = value ?? throw new ArgumentNullException(nameof(LearningRate));
    }

    /// <summary>Iteration stops once the gradient's Euclidean norm is below this (default 1e-10).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive and finite.</exception>
    public double GradientTolerance
    {
        get => _gradientTolerance;
        init => _gradientTolerance = Guard.PositiveFinite(value, "The gradient tolerance", nameof(GradientTolerance));
    }

    /// <summary>The most iterations (default 100).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 1.</exception>
    public int MaxIterations
    {
        get => _maxIterations;
        init => _maxIterations = Guard.AtLeast(value, 1, "The iteration limit", nameof(MaxIterations));
    }

    /// <summary>The largest number of parameters (D + 1)·C the method accepts (default 3000): its cost grows as the cube.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 1.</exception>
    public int MaxParameters
    {
        get => _maxParameters;
        init => _maxParameters = Guard.AtLeast(value, 1, "The parameter limit", nameof(MaxParameters));
    }
}
