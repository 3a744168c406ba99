using System.Numerics;
using NeuralBasics.Data;
using NeuralBasics.Losses;
using NeuralBasics.Regularization;
using NeuralBasics.Scoring;

namespace NeuralBasics.Optimizers;

/// <summary>
/// Newton's method for a linear classifier, a full-batch solver: <c>θ ← θ − t·H⁻¹∇f</c> with the
/// exact Hessian H of the objective and a backtracking line search choosing t, iterated until the
/// gradient vanishes, the line search fails or the iteration limit is reached.
/// </summary>
/// <remarks>
/// <para>
/// θ stacks W (D x C) and b (C) as a (D + 1) x C matrix over the inputs extended by a constant 1,
/// <c>x̃ = (x, 1)</c>. The objective <c>f = (1/N) Σ_i L_i + λ Σ W²</c> has Hessian
/// <c>H = (1/N) Σ_i A_i ⊗ x̃_i x̃_iᵀ + 2λ·I_W</c>, where <c>A_i = ∂²L_i/∂s²</c> is the loss's C x C
/// score Hessian: <c>diag(p) − ppᵀ</c> for softmax cross-entropy, and the generalized Hessian of
/// the squared hinge (<see cref="ISecondOrderLoss"/>). Both losses ignore a shift of all scores,
/// so H is singular along "all biases up by the same amount"; that direction, which the gradient
/// never has a component in, is given curvature so the step leaves it alone.
/// </para>
/// <para>
/// H is solved by Cholesky factorization (MathNet.Numerics); when it is not positive definite
/// (λ = 0 leaves more such directions) the solve is damped, <c>(H + μI)</c>, with μ raised tenfold
/// from 1e-10·max diag(H) until it factors. The line search starts from the learning rate (default
/// 1, the full Newton step) and halves t until the Armijo condition
/// <c>f(θ − tΔ) ≤ f(θ) − c·t·∇fᵀΔ</c> holds (c = 1e-4). Iteration stops when ‖∇f‖ falls below
/// <see cref="NewtonOptions.GradientTolerance"/>.
/// </para>
/// <para>
/// Each iteration costs O(N·C²·D²) to assemble H and O((D·C)³) to solve it, so the method refuses
/// problems with more than <see cref="NewtonOptions.MaxParameters"/> parameters. It needs the whole
/// objective at once, so it is not an <see cref="UpdateRule"/> for the mini-batch trainer. Nocedal
/// and Wright, "Numerical Optimization", chapters 3 and 6.
/// </para>
/// </remarks>
public static class NewtonMethod
{
    /// <summary>
    /// Minimizes <c>(1/N) Σ_i L_i + λ‖W‖²</c> over the whole of <paramref name="data"/>, training
    /// <paramref name="score"/> in place; reports each iteration to <paramref name="progress"/>.
    /// </summary>
    /// <param name="score">The linear classifier to train.</param>
    /// <param name="loss">A loss with a Hessian: <see cref="SoftmaxCrossEntropyLoss"/> or <see cref="SquaredHingeLoss"/>.</param>
    /// <param name="regularizer"><see cref="L2Regularization"/>, or null for none.</param>
    /// <param name="data">The training data.</param>
    /// <param name="options">Tolerance, iteration limit, step schedule and size limit; null means the defaults.</param>
    /// <param name="progress">Receives each iteration's objective and gradient norm.</param>
    /// <param name="cancellationToken">Checked between iterations.</param>
    /// <exception cref="ArgumentException">
    /// The data does not fit the score function, the problem has more parameters than
    /// <see cref="NewtonOptions.MaxParameters"/>, or the loss or regularizer is not one the method supports.
    /// </exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static NewtonResult Minimize<T>(LinearScore<T> score, ILoss loss, IRegularizer? regularizer, DataSet<T> data,
        NewtonOptions? options = null, IProgress<NewtonIteration>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(score);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(data);
        options ??= new NewtonOptions();
        if (data.FeatureCount != score.InputCount || data.ClassCount != score.ClassCount)
            throw new ArgumentException(
                $"The data has {data.FeatureCount} features and {data.ClassCount} classes but {score} takes {score.InputCount} and scores {score.ClassCount}.",
                nameof(data));
        if (loss is not ISecondOrderLoss secondOrder)
            throw new ArgumentException(
                $"Newton's method needs a loss with a Hessian (SoftmaxCrossEntropyLoss or SquaredHingeLoss), not {loss}.", nameof(loss));
        double lambda = regularizer switch
        {
            null or NoRegularization => 0,
            L2Regularization l2 => l2.Lambda,
            _ => throw new ArgumentException($"Newton's method supports L2 or no regularization, not {regularizer}.", nameof(regularizer)),
        };
        long parameters = (long)(score.InputCount + 1) * score.ClassCount;
        if (parameters > options.MaxParameters)
            throw new ArgumentException(
                $"Newton's method would solve a {parameters} x {parameters} Hessian ({score.InputCount + 1} x {score.ClassCount} parameters), " +
                $"more than MaxParameters = {options.MaxParameters}; its cost grows as the cube of that. Use a first-order rule such as Adam " +
                "with the Trainer, or raise MaxParameters.", nameof(score));

        var solver = new NewtonSolver<T>(options, score, secondOrder, lambda, data);
        int iterations = 0;
        NewtonStopReason? reason = null;
        while (reason is null && iterations < options.MaxIterations)
        {
            cancellationToken.ThrowIfCancellationRequested();
            reason = solver.Iterate();
            if (reason is null)
            {
                iterations++;
                if (progress is not null)
                {
                    var (objective, norm) = solver.Evaluate();
                    progress.Report(new NewtonIteration(iterations, objective, norm));
                }
            }
        }
        var (finalObjective, finalNorm) = solver.Evaluate();
        return new NewtonResult(iterations, finalNorm, finalObjective, reason ?? NewtonStopReason.IterationLimit);
    }
}
