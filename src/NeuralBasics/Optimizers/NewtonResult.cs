namespace NeuralBasics.Optimizers;

/// <summary>How a <see cref="NewtonMethod"/> minimization ended, in the style of Math.NET's <c>MinimizationResult</c>.</summary>
/// <param name="Iterations">The Newton steps taken.</param>
/// <param name="GradientNorm">The gradient's Euclidean norm at the final parameters.</param>
/// <param name="Objective">The objective <c>(1/N) Σ_i L_i + λ‖W‖²</c> at the final parameters.</param>
/// <param name="Reason">Why it stopped.</param>
public sealed record NewtonResult(int Iterations, double GradientNorm, double Objective, NewtonStopReason Reason);
