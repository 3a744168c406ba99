using System.Numerics;
using System.Numerics.Tensors;
using NeuralBasics.Data;

namespace NeuralBasics.Optimizers;

/// <summary>What a full-batch solver minimizes: f(θ) over a flat vector of doubles, with its gradient.</summary>
internal interface IFullBatchObjective
{
    /// <summary>θ's length.</summary>
    int Length { get; }

    /// <summary>The current parameters as θ.</summary>
    void Read(Span<double> theta);

    /// <summary>Sets the parameters from θ.</summary>
    void Write(ReadOnlySpan<double> theta);

    /// <summary>f and ∇f (with respect to θ) at the parameters last written; NaN when not finite.</summary>
    double Evaluate(Span<double> gradient);

    /// <summary>The same gradient with respect to the score function's own parameters (θ may be other coordinates).</summary>
    void ToOriginalGradient(ReadOnlySpan<double> gradient, Span<double> destination);
}

/// <summary>
/// A linear classifier's objective in standardized coordinates, the same function of other
/// variables: <c>W = diag(1/σ)·W'</c>, <c>b = b' − μᵀdiag(1/σ)·W'</c>, so the scores
/// <c>xW + b = ((x − μ)/σ)·W' + b'</c> are unchanged and so is the objective, regularizer included
/// (it is still computed on W). The gradient follows by the chain rule:
/// <c>∂F/∂W'_dc = (∂f/∂W_dc − μ_d·∂f/∂b_c)/σ_d</c>, <c>∂F/∂b' = ∂f/∂b</c>. Raw pixels in [0, 1] with
/// means far from 0 make the bias and the weights pull against each other; in these coordinates
/// the curvature is far better balanced, so a quasi-Newton method needs fewer iterations. The
/// data itself is never copied or changed.
/// </summary>
/// <remarks>
/// The scale is <c>σ_d = √(var_d + κ)</c>: in these coordinates the curvature of W'_dc is about
/// <c>(h·var_d + 2λ)/σ_d²</c>, h the loss's curvature per unit of score (p(1 − p), 0.09 for ten
/// classes at the start), so κ = 2λ/h makes it about h for every feature, including pixels that
/// are almost always 0, which plain standardization (κ = 0) would make the stiffest of all through
/// the regularizer. A feature with no variance and κ = 0 keeps σ = 1.
/// </remarks>
internal sealed class StandardizedLinearObjective<T> : IFullBatchObjective
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IFullBatchObjective _inner;
    private readonly int _d, _c;
    private readonly double[] _mean, _scale, _theta, _gradient;

    public StandardizedLinearObjective(IFullBatchObjective inner, DataSet<T> data, int classes, double kappa)
    {
        _inner = inner;
        _d = data.FeatureCount;
        _c = classes;
        _theta = new double[inner.Length];
        _gradient = new double[inner.Length];
        (_mean, _scale) = Moments(data, kappa);
    }

    public int Length => _inner.Length;

    public void Read(Span<double> theta)
    {
        _inner.Read(_theta);
        // W' = diag(σ)·W, b' = b + μᵀW.
        for (int c = 0; c < _c; c++)
        {
            double b = _theta[_d * _c + c];
            for (int d = 0; d < _d; d++)
                b += _mean[d] * _theta[d * _c + c];
            theta[_d * _c + c] = b;
        }
        for (int d = 0; d < _d; d++)
            for (int c = 0; c < _c; c++)
                theta[d * _c + c] = _scale[d] * _theta[d * _c + c];
    }

    public void Write(ReadOnlySpan<double> theta)
    {
        for (int c = 0; c < _c; c++)
        {
            double b = theta[_d * _c + c];
            for (int d = 0; d < _d; d++)
                b -= _mean[d] * theta[d * _c + c] / _scale[d];
            _theta[_d * _c + c] = b;
        }
        for (int d = 0; d < _d; d++)
            for (int c = 0; c < _c; c++)
                _theta[d * _c + c] = theta[d * _c + c] / _scale[d];
        _inner.Write(_theta);
    }

    public double Evaluate(Span<double> gradient)
    {
        double f = _inner.Evaluate(_gradient);
        for (int d = 0; d < _d; d++)
            for (int c = 0; c < _c; c++)
                gradient[d * _c + c] = (_gradient[d * _c + c] - _mean[d] * _gradient[_d * _c + c]) / _scale[d];
        _gradient.AsSpan(_d * _c, _c).CopyTo(gradient[(_d * _c)..]);
        return f;
    }

    /// <summary>∂f/∂b = ∂F/∂b'; ∂f/∂W_dc = σ_d·∂F/∂W'_dc + μ_d·∂f/∂b_c.</summary>
    public void ToOriginalGradient(ReadOnlySpan<double> gradient, Span<double> destination)
    {
        gradient.Slice(_d * _c, _c).CopyTo(destination[(_d * _c)..]);
        for (int d = 0; d < _d; d++)
            for (int c = 0; c < _c; c++)
                destination[d * _c + c] = _scale[d] * gradient[d * _c + c] + _mean[d] * gradient[_d * _c + c];
    }

    /// <summary>Each feature's mean and deviation over the rows (in double, a row at a time), the deviation lifted by √κ.</summary>
    private static (double[] Mean, double[] Scale) Moments(DataSet<T> data, double kappa)
    {
        int n = data.Count, d = data.FeatureCount;
        var sum = new double[d];
        var squares = new double[d];
        var row = new double[d];
        for (int i = 0; i < n; i++)
        {
            TensorPrimitives.ConvertChecked<T, double>(data.Features.Row(i), row);
            TensorPrimitives.Add<double>(sum, row, sum);
            TensorPrimitives.MultiplyAdd<double>(row, row, squares, squares);
        }
        var mean = new double[d];
        var scale = new double[d];
        for (int j = 0; j < d; j++)
        {
            mean[j] = sum[j] / n;
            double variance = Math.Max(0, squares[j] / n - mean[j] * mean[j]);
            scale[j] = kappa > 0 ? Math.Sqrt(variance + kappa) : variance > 1e-24 * Math.Max(1, mean[j] * mean[j]) ? Math.Sqrt(variance) : 1;
        }
        return (mean, scale);
    }
}
