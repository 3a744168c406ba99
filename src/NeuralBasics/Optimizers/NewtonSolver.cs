using System.Numerics;
using NeuralBasics.Data;
using NeuralBasics.Kernels;
using NeuralBasics.Losses;
using NeuralBasics.Scoring;
using DenseMatrix = MathNet.Numerics.LinearAlgebra.Matrix<double>;
using DenseVector = MathNet.Numerics.LinearAlgebra.Vector<double>;

namespace NeuralBasics.Optimizers;

/// <summary>The state of one Newton minimization, in double: data, parameters and work buffers.</summary>
internal sealed class NewtonSolver<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private const double Armijo = 1e-4;
    private readonly NewtonOptions _options;
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

    public NewtonSolver(NewtonOptions options, LinearScore<T> score, ISecondOrderLoss loss, double lambda, DataSet<T> data)
    {
        _options = options;
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

    /// <summary>The objective and the gradient's norm at the current parameters.</summary>
    public (double Objective, double GradientNorm) Evaluate()
    {
        double f = Objective(_theta, _gradient);
        return (f, Math.Sqrt(System.Numerics.Tensors.TensorPrimitives.SumOfSquares<double>(_gradient.Span)));
    }

    /// <summary>
    /// One Newton iteration from the current parameters: null when it took a step; otherwise why
    /// not — the gradient was already below the tolerance, or no step along the Newton direction
    /// decreased the objective (then nothing changed).
    /// </summary>
    public NewtonStopReason? Iterate()
    {
        var (f, norm) = Evaluate();
        if (norm < _options.GradientTolerance)
            return NewtonStopReason.Converged;

        AssembleHessian();
        DenseVector step = Solve(DenseVector.Build.Dense(_gradient.Span.ToArray()));
        double slope = 0;
        for (int k = 0; k < _p; k++)
            slope += _gradient.Span[k] * step[k];

        double t = _options.LearningRate.At(_iterations++);
        for (int attempt = 0; attempt < 60; attempt++, t *= 0.5)
        {
            for (int k = 0; k < _p; k++)
                _trial.Span[k] = _theta.Span[k] - t * step[k];
            double trialObjective = Objective(_trial, default);
            if (trialObjective <= f - Armijo * t * slope)
            {
                _trial.Span.CopyTo(_theta.Span);
                WriteBack();
                return null;
            }
        }
        // No step decreases f measurably: the iterate is at the optimum to working precision.
        return NewtonStopReason.LineSearchFailed;
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
