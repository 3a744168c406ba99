using System.Numerics;
using System.Numerics.Tensors;
using NeuralBasics.Regularization;

namespace NeuralBasics.Training;

/// <summary>
/// The first pass after the backward pass: adds the regularization gradient, checks that every
/// gradient is finite and measures the global norm, in one pass over blocks of all tensors. The norm
/// is summed per block, then over the blocks in order, so it does not depend on the core count. A
/// regularizer that is not element-wise (<see cref="IRegularizer.IsElementwise"/>) is applied to
/// whole tensors on the calling thread first.
/// </summary>
internal sealed class GradientPreparation<T> : BlockPass<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IRegularizer _regularizer;
    private readonly bool _regularizeInBlocks;
    private readonly double[] _blockSquares;

    public GradientPreparation(IReadOnlyList<Parameter<T>> parameters, IRegularizer regularizer)
        : base(parameters)
    {
        _regularizer = regularizer;
        _regularizeInBlocks = regularizer.IsElementwise;
        _blockSquares = new double[Blocks.Length];
    }

    /// <summary>
    /// Adds the regularization gradient, then returns the global norm <c>√(Σ g²)</c> of the
    /// gradient, or null with the name of the first tensor whose gradient is not finite.
    /// </summary>
    public double? Run(out string? nonFinite)
    {
        if (!_regularizeInBlocks)
            foreach (var p in Parameters)
                if (p.IsRegularized)
                    _regularizer.AddGradient<T>(p.Value.Span, p.Gradient.Span);
        RunAllBlocks();

        double squares = 0;
        for (int b = 0; b < Blocks.Length; b++)
        {
            if (double.IsNaN(_blockSquares[b]))
            {
                nonFinite = Parameters[Blocks[b].Tensor].Name;
                return null;
            }
            squares += _blockSquares[b];
        }
        nonFinite = null;
        return Math.Sqrt(squares);
    }

    protected override void RunBlock(int block, int tensor, int start, int length)
    {
        var p = Parameters[tensor];
        var g = p.Gradient.Span.Slice(start, length);
        if (_regularizeInBlocks && p.IsRegularized)
            _regularizer.AddGradient<T>(p.Value.Span.Slice(start, length), g);
        _blockSquares[block] = SumOfSquares(g);
    }

    /// <summary>
    /// Σ g² of one block in double, or NaN when the block holds NaN or ∞; finite values whose
    /// squares overflow T are summed in double instead of becoming ∞.
    /// </summary>
    internal static double SumOfSquares(ReadOnlySpan<T> g)
    {
        double sum = double.CreateChecked(TensorPrimitives.SumOfSquares(g));
        if (double.IsFinite(sum))
            return sum;
        // Either a value is not finite, or finite values too large for T overflowed when squared.
        if (!TensorPrimitives.IsFiniteAll(g))
            return double.NaN;
        sum = 0;
        foreach (T v in g)
        {
            double d = double.CreateChecked(v);
            sum += d * d;
        }
        return sum;
    }
}
