using System.Numerics;
using System.Numerics.Tensors;
using NeuralBasics.Data;
using NeuralBasics.Kernels;
using NeuralBasics.Losses;
using NeuralBasics.Regularization;

namespace NeuralBasics.Optimizers;

/// <summary>
/// The objective <c>f(θ) = (1/N) Σ_i L_i + R(W)</c> over a whole data set and its gradient, for
/// full-batch solvers, with θ every parameter of a score function flattened into one vector of
/// doubles (tensor after tensor, in <see cref="IScoreFunction{T}.Parameters"/> order).
/// </summary>
/// <remarks>
/// The rows are cut into <see cref="Parts"/> contiguous parts, a fixed number whatever the core
/// count; each part runs its chunks of <see cref="ChunkRows"/> rows in order on a copy of the score
/// function (forward, loss, backward while the chunk is in cache) and sums its loss and gradient in
/// double; the parts run on every core and are added in part order. So the result is the same bits
/// on one core or many, and the data is read once per evaluation.
/// </remarks>
internal sealed class FullBatchObjective<T> : IFullBatchObjective, IKernelParts
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Rows per chunk: 256 x 784 floats of input stay in a 1 MiB L2 between the forward and backward passes.</summary>
    private const int ChunkRows = 256;

    /// <summary>Parts of the data, summed in order; more than the cores so that uneven cores even out.</summary>
    private const int Parts = 8;

    private readonly IScoreFunction<T> _score;
    private readonly ILoss _loss;
    private readonly IRegularizer? _regularizer;
    private readonly DataSet<T> _data;
    private readonly IScoreFunction<T>[] _copies;
    private readonly double[][] _partGradients;
    private readonly double[] _partLosses = new double[Parts];
    private readonly T[][] _scores, _dScores;
    private readonly double[][] _converted;
    private readonly int[] _offsets;

    public FullBatchObjective(IScoreFunction<T> score, ILoss loss, IRegularizer? regularizer, DataSet<T> data)
    {
        _score = score;
        _loss = loss;
        _regularizer = regularizer is NoRegularization ? null : regularizer;
        _data = data;
        var parameters = score.Parameters;
        _offsets = new int[parameters.Count + 1];
        for (int k = 0; k < parameters.Count; k++)
            _offsets[k + 1] = checked(_offsets[k] + parameters[k].Value.Span.Length);
        Length = _offsets[^1];
        int parts = Math.Min(Parts, (data.Count + ChunkRows - 1) / ChunkRows);
        _copies = [.. Enumerable.Range(0, parts).Select(_ => score.Clone())];
        _partGradients = [.. Enumerable.Range(0, parts).Select(_ => new double[Length])];
        _scores = [.. Enumerable.Range(0, parts).Select(_ => new T[ChunkRows * score.ClassCount])];
        _dScores = [.. Enumerable.Range(0, parts).Select(_ => new T[ChunkRows * score.ClassCount])];
        _converted = [.. Enumerable.Range(0, parts).Select(_ => new double[parameters.Max(p => p.Value.Span.Length)])];
    }

    /// <summary>The number of parameters, θ's length.</summary>
    public int Length { get; }

    /// <summary>Copies the score function's parameters into <paramref name="theta"/>.</summary>
    public void Read(Span<double> theta)
    {
        var parameters = _score.Parameters;
        for (int k = 0; k < parameters.Count; k++)
        {
            var values = parameters[k].Value.Span;
            var target = theta[_offsets[k].._offsets[k + 1]];
            for (int i = 0; i < values.Length; i++)
                target[i] = double.CreateChecked(values[i]);
        }
    }

    /// <summary>Writes <paramref name="theta"/> into the score function's parameters (rounded to <typeparamref name="T"/>).</summary>
    public void Write(ReadOnlySpan<double> theta)
    {
        var parameters = _score.Parameters;
        for (int k = 0; k < parameters.Count; k++)
        {
            var values = parameters[k].Value.Span;
            var source = theta[_offsets[k].._offsets[k + 1]];
            for (int i = 0; i < values.Length; i++)
                values[i] = T.CreateChecked(source[i]);
        }
    }

    /// <summary>
    /// f(θ) and ∇f(θ) into <paramref name="gradient"/>, with θ as the score function's parameters
    /// now hold it; NaN when the loss is not finite (the line search then steps back).
    /// </summary>
    public double Evaluate(Span<double> gradient)
    {
        int parts = _copies.Length;
        var parameters = _score.Parameters;
        foreach (var copy in _copies)
            for (int k = 0; k < parameters.Count; k++)
                parameters[k].Value.Span.CopyTo(copy.Parameters[k].Value.Span);

        KernelThreads.Run(this, parts);

        int n = _data.Count;
        double loss = 0;
        gradient.Clear();
        for (int p = 0; p < parts; p++)
        {
            loss += _partLosses[p];
            var part = _partGradients[p];
            for (int i = 0; i < gradient.Length; i++)
                gradient[i] += part[i];
        }
        loss /= n;
        for (int i = 0; i < gradient.Length; i++)
            gradient[i] /= n;
        if (!double.IsFinite(loss))
            return double.NaN;

        // R(W) and its gradient on the weights only (biases are never regularized), in double.
        if (_regularizer is not null)
        {
            for (int k = 0; k < parameters.Count; k++)
            {
                if (!parameters[k].IsRegularized)
                    continue;
                var weights = new double[_offsets[k + 1] - _offsets[k]];
                for (int i = 0; i < weights.Length; i++)
                    weights[i] = double.CreateChecked(parameters[k].Value.Span[i]);
                loss += _regularizer.Penalty<double>(weights);
                _regularizer.AddGradient<double>(weights, gradient[_offsets[k].._offsets[k + 1]]);
            }
        }
        return loss;
    }

    /// <inheritdoc/>
    public void ToOriginalGradient(ReadOnlySpan<double> gradient, Span<double> destination) => gradient.CopyTo(destination);

    /// <summary>Part p: rows [p·N/parts, (p + 1)·N/parts), chunk by chunk, summed in double, each chunk weighted by its rows.</summary>
    public void RunPart(int part, int parts)
    {
        int n = _data.Count, c = _score.ClassCount;
        int first = (int)((long)part * n / parts), end = (int)((long)(part + 1) * n / parts);
        var copy = _copies[part];
        var sum = _partGradients[part];
        Array.Clear(sum);
        double loss = 0;
        for (int start = first; start < end; start += ChunkRows)
        {
            int rows = Math.Min(ChunkRows, end - start);
            var inputs = _data.Features.AsReadOnlySpan().SliceRows(start, rows);
            var labels = _data.Labels.Slice(start, rows);
            var scores = new MatrixSpan<T>(_scores[part].AsSpan(0, rows * c), rows, c);
            var dScores = new MatrixSpan<T>(_dScores[part].AsSpan(0, rows * c), rows, c);
            copy.Forward(inputs, scores);
            T chunkLoss = _loss.Compute<T>(scores, labels, dScores);
            if (!T.IsFinite(chunkLoss))
            {
                _partLosses[part] = double.NaN;
                return;
            }
            copy.Backward(inputs, dScores, default);
            loss += double.CreateChecked(chunkLoss) * rows;
            var parameters = copy.Parameters;
            for (int k = 0; k < parameters.Count; k++)
            {
                var g = parameters[k].Gradient.Span;
                var target = sum.AsSpan(_offsets[k], g.Length);
                var converted = _converted[part].AsSpan(0, g.Length);
                TensorPrimitives.ConvertChecked<T, double>(g, converted);
                TensorPrimitives.MultiplyAdd<double>(converted, rows, target, target);
            }
        }
        _partLosses[part] = loss;
    }
}
