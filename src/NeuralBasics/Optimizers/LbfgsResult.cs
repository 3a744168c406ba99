namespace NeuralBasics.Optimizers;

/// <summary>How an <see cref="Lbfgs"/> minimization ended.</summary>
/// <param name="Iterations">The iterations (accepted steps).</param>
/// <param name="Evaluations">Evaluations of the objective and gradient over the whole data set, line searches included.</param>
/// <param name="Objective">The objective <c>(1/N) Σ_i L_i + R(W)</c> at the final parameters.</param>
/// <param name="GradientNorm">The gradient's Euclidean norm there.</param>
/// <param name="Reason">Why it stopped.</param>
public sealed record LbfgsResult(int Iterations, int Evaluations, double Objective, double GradientNorm, LbfgsStopReason Reason);
