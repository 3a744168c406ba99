using System.Numerics;
using NeuralBasics.Data;
using NeuralBasics.Kernels;
using NeuralBasics.Losses;
using NeuralBasics.Regularization;
using NeuralBasics.Scoring;
using DenseMatrix = MathNet.Numerics.LinearAlgebra.Matrix<double>;
using DenseVector = MathNet.Numerics.LinearAlgebra.Vector<double>;

namespace NeuralBasics.Optimizers;

/// <summary>
/// Newton's method for a linear classifier: <c>θ ← θ − t·H⁻¹∇f</c> on the full batch, with the
/// exact Hessian H of the objective and a backtracking line search choosing t.
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
/// <see cref="GradientTolerance"/>.
/// </para>
/// <para>
/// Each iteration costs O(N·C²·D²) to assemble H and O((D·C)³) to solve it, so the rule refuses
/// problems with more than <see cref="MaxParameters"/> parameters. It needs the whole objective,
/// not one tensor's gradient, so <see cref="UpdateRule.Apply{T}"/> does not support it:
/// <see cref="Training.Trainer{T}"/> runs it full-batch, one iteration per epoch. Nocedal and
/// Wright, "Numerical Optimization", chapters 3 and 6.
/// </para>
/// </remarks>
public sealed record Newton : UpdateRule
{
    private readonly int _maxParameters;
    private readonly double _gradientTolerance;

    /// <summary>Creates the rule; a null learning rate means 1, the full Newton step.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit below 1 or a tolerance that is not positive and finite.</exception>
    public Newton(LearningRateSchedule? learningRate = null, int maxParameters = 3000, double gradientTolerance = 1e-10)
        : base(learningRate ?? new ConstantLearningRate(1.0))
    {
        MaxParameters = maxParameters;
        GradientTolerance = gradientTolerance;
    }

    /// <summary>The largest number of parameters (D + 1)·C the rule accepts (default 3000).</summary>
    public int MaxParameters { get => _maxParameters; init => _maxParameters = Guard.AtLeast(value, 1, "The parameter limit", nameof(MaxParameters)); }

    /// <summary>Iteration stops once the gradient's Euclidean norm is below this (default 1e-10).</summary>
    public double GradientTolerance
    {
        get => _gradientTolerance;
        init => _gradientTolerance = Guard.PositiveFinite(value, "The gradient tolerance", nameof(GradientTolerance));
    }

    /// <inheritdoc/>
    public override UpdateState CreateState<T>(int length) => new SgdState(length);

    /// <summary>Always throws: Newton's method needs the whole objective; train with <see cref="Training.Trainer{T}"/>.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    protected override void ApplyCore<T>(Span<T> parameters, ReadOnlySpan<T> gradient, UpdateState state, int offset, double learningRate) =>
        throw new NotSupportedException(
            "Newton's method needs the Hessian of the whole objective, not one tensor's gradient: train with Trainer, which runs it full-batch.");

    /// <summary>Starts a full-batch minimization of <paramref name="score"/> on <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException">The problem is too large, or a component is not one Newton's method supports.</exception>
    internal NewtonSolver<T> CreateSolver<T>(IScoreFunction<T> score, ILoss loss, IRegularizer regularizer, DataSet<T> data)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (score is not LinearScore<T> linear)
            throw new ArgumentException($"Newton's method trains a LinearScore only, not {score}; use a first-order rule such as Adam.", nameof(score));
        if (loss is not ISecondOrderLoss secondOrder)
            throw new ArgumentException(
                $"Newton's method needs a loss with a Hessian (SoftmaxCrossEntropyLoss or SquaredHingeLoss), not {loss}.", nameof(loss));
        double lambda = regularizer switch
        {
            L2Regularization l2 => l2.Lambda,
            NoRegularization => 0,
            _ => throw new ArgumentException($"Newton's method supports L2 or no regularization, not {regularizer}.", nameof(regularizer)),
        };
        long parameters = (long)(linear.InputCount + 1) * linear.ClassCount;
        if (parameters > MaxParameters)
            throw new ArgumentException(
                $"Newton's method would solve a {parameters} x {parameters} Hessian ({linear.InputCount + 1} x {linear.ClassCount} parameters), " +
                $"more than MaxParameters = {MaxParameters}; its cost grows as the cube of that. Use a first-order rule such as Adam, " +
                "or raise MaxParameters.", nameof(score));
        return new NewtonSolver<T>(this, linear, secondOrder, lambda, data);
    }
}

/// <summary>The state of one Newton minimization, in double: data, parameters and work buffers.</summary>
internal sealed class NewtonSolver<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private const double Armijo = 1e-4;
    private readonly Newton _rule;
    private readonly LinearScore<T> _score;
    private readonly ISecondOrderLoss _loss;
    private readonly double _lambda;
    private readonly int[] _labels;
    private readonly int _n, _d1, _c, _p;
    private readonly Matrix<double> _x;       // N x (D + 1): the inputs with a constant 1 appended
    private readonly Matrix<double> _theta;   // (D + 1) x C: W on top, b as the last row
    private readonly Matrix<double> _trial, _gradient, _scores, _dScores;
    private readonly double[] _hessian, _scoreHessian;
    private long _iterations;

    public NewtonSolver(Newton rule, LinearScore<T> score, ISecondOrderLoss loss, double lambda, DataSet<T> data)
    {
        _rule = rule;
        _score = score;
        _loss = loss;
        _lambda = lambda;
        _labels = data.Labels.ToArray();
        _n = data.Count;
        _d1 = data.FeatureCount + 1;
        _c = score.ClassCount;
        _p = _d1 * _c;

        _x = new Matrix<double>(_n, _d1);
        for (int i = 0; i < _n; i++)
        {
            var row = data.Features.Row(i);
            for (int d = 0; d < _d1 - 1; d++)
                _x[i, d] = double.CreateChecked(row[d]);
            _x[i, _d1 - 1] = 1;
        }
        _theta = new Matrix<double>(_d1, _c);
        var w = score.Weights.Value.Span;
        for (int k = 0; k < w.Length; k++)
            _theta.Span[k] = double.CreateChecked(w[k]);
        var b = score.Biases.Value.Span;
        for (int c = 0; c < _c; c++)
            _theta[_d1 - 1, c] = double.CreateChecked(b[c]);

        _trial = new Matrix<double>(_d1, _c);
        _gradient = new Matrix<double>(_d1, _c);
        _scores = new Matrix<double>(_n, _c);
        _dScores = new Matrix<double>(_n, _c);
        _hessian = new double[_p * _p];
        _scoreHessian = new double[_c * _c];
    }

    /// <summary>
    /// One Newton iteration; returns the gradient norm before it, and whether the gradient was
    /// already below the tolerance (in which case nothing changed).
    /// </summary>
    public (double GradientNorm, bool Converged) Iterate()
    {
        double f = Objective(_theta, _gradient);
        double norm = Math.Sqrt(System.Numerics.Tensors.TensorPrimitives.SumOfSquares<double>(_gradient.Span));
        if (norm < _rule.GradientTolerance)
            return (norm, true);

        AssembleHessian();
        DenseVector step = Solve(DenseVector.Build.Dense(_gradient.Span.ToArray()));
        double slope = 0;
        for (int k = 0; k < _p; k++)
            slope += _gradient.Span[k] * step[k];

        double t = _rule.LearningRate.At(_iterations++);
        for (int attempt = 0; attempt < 60; attempt++, t *= 0.5)
        {
            for (int k = 0; k < _p; k++)
                _trial.Span[k] = _theta.Span[k] - t * step[k];
            double trialObjective = Objective(_trial, default);
            if (trialObjective <= f - Armijo * t * slope)
            {
                _trial.Span.CopyTo(_theta.Span);
                WriteBack();
                return (norm, false);
            }
        }
        // No step decreases f measurably: the iterate is at the optimum to working precision.
        return (norm, true);
    }

    /// <summary>f(θ) and, unless <paramref name="gradient"/> is empty, ∇f(θ).</summary>
    private double Objective(Matrix<double> theta, MatrixSpan<double> gradient)
    {
        Gemm.Multiply(_x, theta, _scores);
        bool withGradient = !gradient.IsEmpty;
        double loss = _loss.Compute<double>(_scores, _labels, withGradient ? _dScores.AsSpan() : default);
        double penalty = 0;
        var weights = theta.Span[..((_d1 - 1) * _c)];
        foreach (double w in weights)
            penalty += w * w;
        if (withGradient)
        {
            Gemm.MultiplyTransposeA(_x.AsReadOnlySpan(), _dScores.AsReadOnlySpan(), gradient);
            var gw = gradient.Span[..((_d1 - 1) * _c)];
            for (int k = 0; k < gw.Length; k++)
                gw[k] += 2 * _lambda * weights[k];
        }
        return loss + _lambda * penalty;
    }

    /// <summary>H = (1/N) Σ_i A_i ⊗ x̃_i x̃_iᵀ + 2λ I_W, indexed (d·C + c, e·C + k).</summary>
    private void AssembleHessian()
    {
        Array.Clear(_hessian);
        double invN = 1.0 / _n;
        for (int i = 0; i < _n; i++)
        {
            _loss.ScoreHessian(_scores.Row(i), _labels[i], _scoreHessian);
            var x = _x.Row(i);
            for (int c = 0; c < _c; c++)
            {
                for (int k = 0; k < _c; k++)
                {
                    double a = _scoreHessian[c * _c + k] * invN;
                    if (a == 0)
                        continue;
                    for (int d = 0; d < _d1; d++)
                    {
                        double ad = a * x[d];
                        if (ad == 0)
                            continue;
                        int row = (d * _c + c) * _p;
                        for (int e = 0; e < _d1; e++)
                            _hessian[row + e * _c + k] += ad * x[e];
                    }
                }
            }
        }
        for (int k = 0; k < (_d1 - 1) * _c; k++)
            _hessian[k * _p + k] += 2 * _lambda;

        // The biases may all shift together without changing f: give that direction curvature
        // (the gradient has no component along it, so the step's component stays 0).
        double scale = MaxDiagonal();
        int biasRow = (_d1 - 1) * _c;
        for (int c = 0; c < _c; c++)
            for (int k = 0; k < _c; k++)
                _hessian[(biasRow + c) * _p + biasRow + k] += scale / _c;
    }

    private double MaxDiagonal()
    {
        double max = 0;
        for (int k = 0; k < _p; k++)
            max = Math.Max(max, _hessian[k * _p + k]);
        return max > 0 ? max : 1;
    }

    /// <summary>Solves H·Δ = g by Cholesky, damping H when it is not positive definite.</summary>
    private DenseVector Solve(DenseVector gradient)
    {
        // H is symmetric, so its row-major array is also its column-major one.
        var h = DenseMatrix.Build.Dense(_p, _p, _hessian);
        try
        {
            return h.Cholesky().Solve(gradient);
        }
        catch (ArgumentException)
        {
        }
        double mu = 1e-10 * MaxDiagonal();
        for (int attempt = 0; attempt < 30; attempt++, mu *= 10)
        {
            try
            {
                return (h + DenseMatrix.Build.DenseIdentity(_p) * mu).Cholesky().Solve(gradient);
            }
            catch (ArgumentException)
            {
            }
        }
        throw new InvalidOperationException("The Hessian could not be factored even with heavy damping; the data may hold NaN or huge values.");
    }

    private void WriteBack()
    {
        var w = _score.Weights.Value.Span;
        for (int k = 0; k < w.Length; k++)
            w[k] = T.CreateChecked(_theta.Span[k]);
        var b = _score.Biases.Value.Span;
        for (int c = 0; c < _c; c++)
            b[c] = T.CreateChecked(_theta[_d1 - 1, c]);
    }
}
