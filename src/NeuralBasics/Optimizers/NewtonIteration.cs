namespace NeuralBasics.Optimizers;

/// <summary>Progress of a <see cref="NewtonMethod"/> minimization after one step.</summary>
/// <param name="Iteration">The step number, from 1.</param>
/// <param name="Objective">The objective after the step.</param>
/// <param name="GradientNorm">The gradient's norm after the step.</param>
public sealed record NewtonIteration(int Iteration, double Objective, double GradientNorm);
