namespace NeuralBasics.Optimizers;

/// <summary>Progress of an <see cref="Lbfgs"/> minimization after one iteration.</summary>
/// <param name="Iteration">The iteration, from 1.</param>
/// <param name="Objective">The objective after it.</param>
/// <param name="GradientNorm">The gradient's Euclidean norm after it.</param>
/// <param name="Evaluations">Evaluations so far.</param>
/// <param name="StepLength">The step length the line search chose.</param>
public sealed record LbfgsIteration(int Iteration, double Objective, double GradientNorm, int Evaluations, double StepLength);
