using System.Numerics;
using System.Numerics.Tensors;
using NeuralBasics.Kernels;
using NeuralBasics.Components;

namespace NeuralBasics.Losses;

/// <summary>
/// The multiclass SVM (hinge) loss of Weston and Watkins:
/// <c>L_i = Σ_{j≠y_i} max(0, s_j − s_{y_i} + Δ)</c>.
/// It wants the correct class's score to beat every other by at least the margin Δ.
/// </summary>
/// <remarks>
/// With class weights every term of sample i is multiplied by w_{y_i}. A non-finite score makes the
/// loss and that sample's gradient NaN, so a diverging run is caught, never hidden.
/// Gradient, for N samples: <c>∂L/∂s_j = 1/N</c> for each j ≠ y_i whose margin term is positive,
/// and <c>∂L/∂s_{y_i} = −(number of positive terms)/N</c>; every other entry is 0. A term whose
/// margin is met exactly (<c>s_j − s_{y_i} + Δ = 0</c>) sits on the hinge's kink: it adds 0 to the
/// loss and the subgradient 0 is used.
/// Example: scores [−5, 15, 7], correct class 0, Δ = 8: max(0, 15 + 5 + 8) + max(0, 7 + 5 + 8) = 28 + 20 = 48.
/// </remarks>
public sealed class MulticlassHingeLoss : MarginLoss
{
    /// <inheritdoc/>
    public override string Kind => "multiclass_hinge";

    /// <summary>(C − 1)·Δ: every wrong class's margin is violated by exactly Δ.</summary>
    public override double? ChanceLoss(int classes) => (classes - 1) * Delta;

    /// <summary>Reads Δ and the class weights.</summary>
    internal static MulticlassHingeLoss Read(ComponentDescription description) =>
        new(description.Number("delta"), Losses.ClassWeights.Read(description));

    /// <summary>Creates the loss with margin <paramref name="delta"/> (default 1) and optional per-class weights.</summary>
    /// <param name="delta">The margin Δ.</param>
    /// <param name="classWeights">w_c per class: <c>L = (1/N) Σ_i w_{y_i}·L_i</c>; null for all 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">Δ or a weight is negative, NaN or infinite.</exception>
    public MulticlassHingeLoss(double delta = 1.0, IReadOnlyList<double>? classWeights = null)
        : base(delta, classWeights)
    {
    }

    /// <inheritdoc/>
    public override T Compute<T>(ReadOnlyMatrixSpan<T> scores, ReadOnlySpan<int> labels, MatrixSpan<T> gradient)
        => HingeLosses.Compute(scores, labels, gradient, T.CreateChecked(Delta), squared: false, Weights);

    /// <inheritdoc/>
    public override string ToString() => $"MulticlassHingeLoss(Δ = {Delta}{Losses.ClassWeights.Describe(Weights)})";
}

/// <summary>The shared loop of the two hinge losses.</summary>
internal static class HingeLosses
{
    public static unsafe T Compute<T>(ReadOnlyMatrixSpan<T> scores, ReadOnlySpan<int> labels, MatrixSpan<T> gradient, T delta, bool squared,
        double[]? classWeights)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        LossChecks.Check(scores, labels, gradient);
        Losses.ClassWeights.CheckCount(classWeights, scores.Columns);
        // From 64 Ki scores the rows are split across the cores; the same bits either way.
        return RowTotals.Mean(scores, labels, gradient, classWeights, &Rows<T>, delta, squared);
    }

    /// <summary>Rows [first, end): each row's weighted loss into its slot of the totals, and its gradient.</summary>
    private static unsafe void Rows<T>(void* state, int first, int end)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref readonly var job = ref System.Runtime.CompilerServices.Unsafe.AsRef<LossJob<T>>(state);
        int c = job.Columns;
        T delta = job.Delta;
        bool squared = job.Squared;
        T two = T.CreateChecked(2);
        for (int i = first; i < end; i++)
        {
            var s = new ReadOnlySpan<T>(job.Scores + (long)i * c, c);
            int y = job.Labels[i];
            T weight = job.Weights == null ? T.One : T.CreateChecked(job.Weights[y]);
            T scale = weight * job.InvN;
            T correct = s[y];
            T rowLoss = T.Zero;
            T correctGradient = T.Zero;
            Span<T> g = job.Gradient == null ? default : new Span<T>(job.Gradient + (long)i * c, c);
            for (int j = 0; j < c; j++)
            {
                if (j == y)
                    continue;
                T margin = s[j] - correct + delta;
                T gj = T.Zero;
                if (margin > T.Zero)
                {
                    rowLoss += squared ? margin * margin : margin;
                    gj = squared ? Subnormal.Flush(two * margin * scale) : scale;
                }
                if (!g.IsEmpty)
                    g[j] = gj;
                correctGradient -= gj;
            }
            if (!g.IsEmpty)
                g[y] = correctGradient;
            // A non-finite score would slip through the max(0, ·) above (NaN compares false) and
            // hide a diverging run behind a zero loss: make it poison the loss and gradient instead.
            if (!TensorPrimitives.IsFiniteAll(s))
            {
                rowLoss = T.NaN;
                if (!g.IsEmpty)
                    g.Fill(T.NaN);
            }
            job.Totals[i] = double.CreateChecked(weight * rowLoss);
        }
    }
}
