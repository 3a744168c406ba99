namespace NeuralBasics.Optimizers;

/// <summary>Why an <see cref="Lbfgs"/> minimization stopped.</summary>
public enum LbfgsStopReason
{
    /// <summary>The gradient's largest component fell below <see cref="LbfgsOptions.GradientTolerance"/>.</summary>
    Converged,

    /// <summary>An iteration lowered the objective by less than <see cref="LbfgsOptions.RelativeTolerance"/>.</summary>
    NoProgress,

    /// <summary>The objective reached <see cref="LbfgsOptions.TargetObjective"/>.</summary>
    TargetReached,

    /// <summary>No step satisfying the Wolfe conditions was found: the optimum to working precision (in float, sooner than in double).</summary>
    LineSearchFailed,

    /// <summary><see cref="LbfgsOptions.MaxIterations"/> iterations were taken.</summary>
    IterationLimit,
}
