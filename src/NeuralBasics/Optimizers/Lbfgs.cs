using System.Numerics;
using System.Numerics.Tensors;
using NeuralBasics.Data;
using NeuralBasics.Losses;
using NeuralBasics.Regularization;
using NeuralBasics.Scoring;

namespace NeuralBasics.Optimizers;

/// <summary>
/// Limited-memory BFGS, a full-batch quasi-Newton solver for problems too large for Newton's exact
/// Hessian: it minimizes the trainer's objective <c>f(θ) = (1/N) Σ_i L_i + R(W)</c> (biases free) over
/// all of a data set, stepping along <c>−H_k ∇f</c>, where H_k approximates the inverse Hessian from
/// the last m steps and gradient changes, with a line search that satisfies the strong Wolfe
/// conditions.
/// </summary>
/// <remarks>
/// <para>
/// The direction comes from the two-loop recursion (Nocedal and Wright, "Numerical Optimization",
/// algorithm 7.4) with H⁰ = γI, γ = sᵀy / yᵀy of the latest pair (the first step is steepest descent
/// of length 1/‖∇f‖). A pair whose curvature sᵀy is not positive is not kept. The line search
/// (algorithms 3.5 and 3.6) tries the step 1 first, extends it while the slope is still steep and
/// downhill, and otherwise narrows a bracket by safeguarded cubic interpolation until
/// <c>f(θ + αd) ≤ f(θ) + c₁α∇fᵀd</c> and <c>|∇f(θ + αd)ᵀd| ≤ c₂|∇fᵀd|</c>, c₁ = 10⁻⁴, c₂ = 0.9.
/// If it fails with a history, the history is dropped and steepest descent tried once more.
/// </para>
/// <para>
/// A <see cref="LinearScore{T}"/> is solved in standardized coordinates (<see cref="LbfgsOptions.Standardize"/>):
/// <c>W' = diag(σ)·W</c>, <c>b' = b + μᵀW</c> with μ the features' means and σ their deviations
/// lifted by √(2λ/h), the same objective of better-balanced variables. On Fashion-MNIST's raw
/// pixels it reaches scikit-learn's 100-iteration objective in about 43 iterations instead of 100.
/// </para>
/// <para>
/// Each evaluation is one pass over the data, in fixed parts summed in order on every core, so a
/// run gives the same bits on any number of cores. θ is kept in double; a float model is evaluated
/// with θ rounded to float, so near the optimum the line search runs out of precision sooner than
/// in double (<see cref="LbfgsStopReason.LineSearchFailed"/>). Any differentiable loss works:
/// softmax cross-entropy and the squared hinge; the plain hinge's kinks can stop the line search early.
/// </para>
/// </remarks>
public static class Lbfgs
{
    private const double C1 = 1e-4, C2 = 0.9;
    private const int MaxLineSearchEvaluations = 25;

    /// <summary>
    /// Minimizes <c>(1/N) Σ_i L_i + R(W)</c> over the whole of <paramref name="data"/>, training
    /// <paramref name="score"/> in place; reports each iteration to <paramref name="progress"/>.
    /// </summary>
    /// <param name="score">The score function to train (a linear classifier or a network).</param>
    /// <param name="loss">The loss (smooth ones suit the method).</param>
    /// <param name="regularizer">The regularizer on the weights, or null for none.</param>
    /// <param name="data">The training data.</param>
    /// <param name="options">History length, tolerances and iteration limit; null means the defaults.</param>
    /// <param name="progress">Receives each iteration's objective, gradient norm and step.</param>
    /// <param name="cancellationToken">Checked between evaluations.</param>
    /// <exception cref="ArgumentException">The data does not fit the score function.</exception>
    /// <exception cref="InvalidOperationException">The objective is not finite at the starting point.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (the score function then holds the last accepted iterate).</exception>
    public static LbfgsResult Minimize<T>(IScoreFunction<T> score, ILoss loss, IRegularizer? regularizer, DataSet<T> data,
        LbfgsOptions? options = null, IProgress<LbfgsIteration>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(score);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(data);
        options ??= new LbfgsOptions();
        if (data.FeatureCount != score.InputCount || data.ClassCount != score.ClassCount)
            throw new ArgumentException(
                $"The data has {data.FeatureCount} features and {data.ClassCount} classes but {score} takes {score.InputCount} and scores {score.ClassCount}.",
                nameof(data));
        IFullBatchObjective objective = new FullBatchObjective<T>(score, loss, regularizer, data);
        if (options.Standardize && score is LinearScore<T>)
        {
            // κ = 2λ/h with h = (1/C)(1 − 1/C), the softmax curvature per class at equal scores (see StandardizedLinearObjective).
            double perClass = 1.0 / score.ClassCount * (1 - 1.0 / score.ClassCount);
            double kappa = regularizer is L2Regularization l2 && perClass > 0 ? 2 * l2.Lambda / perClass : 0;
            objective = new StandardizedLinearObjective<T>(objective, data, score.ClassCount, kappa);
        }
        return new Run(objective, options, progress, cancellationToken).Minimize();
    }

    /// <summary>One minimization: the iterate, its gradient, the history, and the line search.</summary>
    private sealed class Run(IFullBatchObjective objective, LbfgsOptions options, IProgress<LbfgsIteration>? progress, CancellationToken cancellationToken)
    {
        private readonly int _n = objective.Length;
        private readonly double[][] _s = new double[options.History][], _y = new double[options.History][];
        private readonly double[] _rho = new double[options.History], _alpha = new double[options.History];
        private int _stored, _newest = -1;
        private int _evaluations;
        private readonly double[] _d = new double[objective.Length], _original = new double[objective.Length];
        private double[] _x = new double[objective.Length], _g = new double[objective.Length];
        private double[] _trialX = new double[objective.Length], _trialG = new double[objective.Length];

        public LbfgsResult Minimize()
        {
            objective.Read(_x);
            double f = Evaluate(_x, _g);
            if (!double.IsFinite(f))
                throw new InvalidOperationException("The objective is not finite at the starting point: check the data and the initial weights.");

            for (int iteration = 1; ; iteration++)
            {
                if (Math.Abs(TensorPrimitives.MaxMagnitude<double>(Original(_g))) < options.GradientTolerance)
                    return Finish(iteration - 1, f, LbfgsStopReason.Converged);
                if (f <= options.TargetObjective)
                    return Finish(iteration - 1, f, LbfgsStopReason.TargetReached);
                if (iteration > options.MaxIterations)
                    return Finish(iteration - 1, f, LbfgsStopReason.IterationLimit);

                Direction();
                double slope = TensorPrimitives.Dot<double>(_g, _d);
                if (!(slope < 0))
                {
                    // Not a descent direction (rounding in a bad history): start the history afresh.
                    _stored = 0;
                    Direction();
                    slope = TensorPrimitives.Dot<double>(_g, _d);
                }
                double first = _stored == 0 ? 1 / Math.Sqrt(TensorPrimitives.SumOfSquares<double>(_g)) : 1;
                var accepted = LineSearch(f, slope, first);
                if (accepted is null && _stored > 0)
                {
                    // The history may mislead: steepest descent once more, from a step of 1/‖g‖.
                    _stored = 0;
                    Direction();
                    accepted = LineSearch(f, TensorPrimitives.Dot<double>(_g, _d), 1 / Norm(_g));
                }
                if (accepted is not { } found)
                    return Finish(iteration - 1, f, LbfgsStopReason.LineSearchFailed);
                var (step, newF) = found;
                Remember();
                double previous = f;
                f = newF;
                progress?.Report(new LbfgsIteration(iteration, f, Norm(Original(_g)), _evaluations, step));
                if ((previous - f) / Math.Max(Math.Max(Math.Abs(previous), Math.Abs(f)), 1) < options.RelativeTolerance)
                    return Finish(iteration, f, LbfgsStopReason.NoProgress);
            }
        }

        private LbfgsResult Finish(int iterations, double f, LbfgsStopReason reason)
        {
            objective.Write(_x);
            return new LbfgsResult(iterations, _evaluations, f, Norm(Original(_g)), reason);
        }

        /// <summary>The gradient in the score function's own parameters (the solver's may be standardized).</summary>
        private ReadOnlySpan<double> Original(double[] gradient)
        {
            objective.ToOriginalGradient(gradient, _original);
            return _original;
        }

        private static double Norm(ReadOnlySpan<double> v) => Math.Sqrt(TensorPrimitives.SumOfSquares(v));

        private double Evaluate(ReadOnlySpan<double> x, Span<double> gradient)
        {
            cancellationToken.ThrowIfCancellationRequested();
            objective.Write(x);
            _evaluations++;
            return objective.Evaluate(gradient);
        }

        /// <summary>d = −H g by the two-loop recursion over the stored pairs (steepest descent without any).</summary>
        private void Direction()
        {
            var q = _d.AsSpan();
            _g.CopyTo(q);
            int m = _s.Length;
            for (int j = 0, i = _newest; j < _stored; j++, i = (i - 1 + m) % m)
            {
                _alpha[i] = _rho[i] * TensorPrimitives.Dot<double>(_s[i], q);
                TensorPrimitives.MultiplyAdd<double>(_y[i], -_alpha[i], q, q);
            }
            if (_stored > 0)
            {
                double[] y = _y[_newest];
                TensorPrimitives.Multiply<double>(q, 1 / (_rho[_newest] * TensorPrimitives.Dot<double>(y, y)), q);
            }
            for (int j = 0, i = (_newest - _stored + 1 + m) % m; j < _stored; j++, i = (i + 1) % m)
            {
                double beta = _rho[i] * TensorPrimitives.Dot<double>(_y[i], q);
                TensorPrimitives.MultiplyAdd<double>(_s[i], _alpha[i] - beta, q, q);
            }
            TensorPrimitives.Negate<double>(q, q);
        }

        /// <summary>Takes the accepted trial point as the new iterate and keeps (s, y) when its curvature is positive.</summary>
        private void Remember()
        {
            int m = _s.Length;
            int slot = (_newest + 1) % m;
            var s = _s[slot] ??= new double[_n];
            var y = _y[slot] ??= new double[_n];
            TensorPrimitives.Subtract<double>(_trialX, _x, s);
            TensorPrimitives.Subtract<double>(_trialG, _g, y);
            double sy = TensorPrimitives.Dot<double>(s, y);
            if (sy > 1e-10 * TensorPrimitives.Dot<double>(y, y))
            {
                _rho[slot] = 1 / sy;
                _newest = slot;
                _stored = Math.Min(_stored + 1, m);
            }
            (_x, _trialX) = (_trialX, _x);
            (_g, _trialG) = (_trialG, _g);
        }

        /// <summary>φ(α) = f(x + αd) and φ'(α), the trial point and its gradient left in the trial buffers.</summary>
        private (double Value, double Slope) Phi(double step)
        {
            TensorPrimitives.MultiplyAdd<double>(_d, step, _x, _trialX);
            double value = Evaluate(_trialX, _trialG);
            return double.IsFinite(value) ? (value, TensorPrimitives.Dot<double>(_trialG, _d)) : (double.PositiveInfinity, double.NaN);
        }

        /// <summary>A step satisfying the strong Wolfe conditions (the trial buffers then hold its point and gradient), or null.</summary>
        private (double Step, double Objective)? LineSearch(double f0, double slope0, double step)
        {
            double previousStep = 0, previousValue = f0, previousSlope = slope0;
            for (int attempt = 0; attempt < MaxLineSearchEvaluations; attempt++)
            {
                var (value, slope) = Phi(step);
                if (value > f0 + C1 * step * slope0 || (attempt > 0 && value >= previousValue))
                    return Zoom(f0, slope0, (previousStep, previousValue, previousSlope), (step, value, slope), MaxLineSearchEvaluations - attempt - 1);
                if (Math.Abs(slope) <= -C2 * slope0)
                    return (step, value);
                if (slope >= 0)
                    return Zoom(f0, slope0, (step, value, slope), (previousStep, previousValue, previousSlope), MaxLineSearchEvaluations - attempt - 1);
                (previousStep, previousValue, previousSlope) = (step, value, slope);
                step *= 2;
            }
            return null;
        }

        /// <summary>Narrows [lo, hi] (lo satisfying the sufficient decrease, with the lower value) until a point meets both conditions.</summary>
        private (double Step, double Objective)? Zoom(double f0, double slope0, (double Step, double Value, double Slope) lo,
            (double Step, double Value, double Slope) hi, int budget)
        {
            for (int attempt = 0; attempt < budget; attempt++)
            {
                double step = Interpolate(lo, hi);
                var (value, slope) = Phi(step);
                if (value > f0 + C1 * step * slope0 || value >= lo.Value)
                {
                    hi = (step, value, slope);
                }
                else
                {
                    if (Math.Abs(slope) <= -C2 * slope0)
                        return (step, value);
                    if (slope * (hi.Step - lo.Step) >= 0)
                        hi = lo;
                    lo = (step, value, slope);
                }
                if (Math.Abs(hi.Step - lo.Step) <= 1e-12 * Math.Max(1, Math.Abs(lo.Step)))
                    break;
            }
            // The bracket closed without meeting the curvature condition: accept lo when it lowered f.
            if (lo.Step > 0 && lo.Value < f0)
            {
                var (value, _) = Phi(lo.Step);
                return (lo.Step, value);
            }
            return null;
        }

        /// <summary>The minimizer of the cubic through both ends' values and slopes, kept 10% inside the bracket (else its midpoint).</summary>
        private static double Interpolate((double Step, double Value, double Slope) a, (double Step, double Value, double Slope) b)
        {
            double lower = Math.Min(a.Step, b.Step), upper = Math.Max(a.Step, b.Step), width = upper - lower;
            if (double.IsFinite(a.Value) && double.IsFinite(b.Value) && double.IsFinite(a.Slope) && double.IsFinite(b.Slope))
            {
                double d1 = a.Slope + b.Slope - 3 * (a.Value - b.Value) / (a.Step - b.Step);
                double discriminant = d1 * d1 - a.Slope * b.Slope;
                if (discriminant >= 0)
                {
                    double d2 = Math.Sign(b.Step - a.Step) * Math.Sqrt(discriminant);
                    double step = b.Step - (b.Step - a.Step) * (b.Slope + d2 - d1) / (b.Slope - a.Slope + 2 * d2);
                    if (double.IsFinite(step) && step >= lower + 0.1 * width && step <= upper - 0.1 * width)
                        return step;
                }
            }
            return lower + 0.5 * width;
        }
    }
}
