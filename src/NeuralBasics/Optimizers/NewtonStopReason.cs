namespace NeuralBasics.Optimizers;

/// <summary>Why a <see cref="NewtonMethod"/> minimization stopped.</summary>
public enum NewtonStopReason
{
    /// <summary>The gradient's norm fell below <see cref="NewtonOptions.GradientTolerance"/>.</summary>
    Converged,

    /// <summary>No step along the Newton direction decreased the objective: the optimum to working precision, or a direction that is no descent.</summary>
    LineSearchFailed,

    /// <summary><see cref="NewtonOptions.MaxIterations"/> steps were taken.</summary>
    IterationLimit,
}
