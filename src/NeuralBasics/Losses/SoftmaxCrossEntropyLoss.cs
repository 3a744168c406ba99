using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using NeuralBasics.Kernels;
using NeuralBasics.Components;

namespace NeuralBasics.Losses;

/// <summary>
/// The softmax classifier's loss, cross-entropy against the softmax probabilities:
/// <c>L_i = −log(e^{s_{y_i}} / Σ_j e^{s_j}) = log Σ_j e^{s_j − m} − (s_{y_i} − m)</c> with
/// <c>m = max_j s_j</c>.
/// </summary>
/// <remarks>
/// Subtracting the row max <c>m</c> changes nothing mathematically but keeps every exponent at
/// most 0, so scores of ±1e4 give finite, exact losses instead of ∞ − ∞. The loss is computed in
/// the log-sum-exp form above rather than as <c>−log p_{y_i}</c>, so it stays exact even when
/// <c>p_{y_i}</c> underflows to 0.
/// With class weights sample i's loss and gradient are multiplied by w_{y_i}. A non-finite score
/// makes the loss and that sample's gradient NaN, so a diverging run is caught, never hidden.
/// Gradient, for N samples: <c>∂L/∂s_j = (p_j − 1[j = y_i]) / N</c> with
/// <c>p_j = e^{s_j − m} / Σ_k e^{s_k − m}</c>.
/// Hessian with respect to one sample's scores: <c>∂²L_i/∂s_j∂s_k = p_j·(1[j = k] − p_k)</c>, that
/// is <c>diag(p) − p·pᵀ</c>, positive semidefinite (adding a constant to every score changes nothing).
/// </remarks>
public sealed class SoftmaxCrossEntropyLoss : ISecondOrderLoss, IDescribedComponent
{
    /// <inheritdoc/>
    public string Kind => "softmax_cross_entropy";

    /// <summary>Writes the class weights, if any.</summary>
    public void Describe(ComponentDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        Losses.ClassWeights.Describe(description, _classWeights);
    }

    /// <summary>ln C: every class gets probability 1/C.</summary>
    public double? ChanceLoss(int classes) => Math.Log(classes);

    /// <summary>Reads the class weights; without any, the shared <see cref="Instance"/>.</summary>
    internal static SoftmaxCrossEntropyLoss Read(ComponentDescription description) =>
        Losses.ClassWeights.Read(description) is { } weights ? new(weights) : Instance;

    private readonly double[]? _classWeights;

    /// <summary>The loss without class weights.</summary>
    public static SoftmaxCrossEntropyLoss Instance { get; } = new();

    /// <summary>Creates the loss, with optional per-class weights.</summary>
    /// <param name="classWeights">w_c per class: <c>L = (1/N) Σ_i w_{y_i}·L_i</c>; null for all 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">A weight is negative, NaN or infinite.</exception>
    public SoftmaxCrossEntropyLoss(IReadOnlyList<double>? classWeights = null) => _classWeights = Losses.ClassWeights.Validate(classWeights);

    /// <summary>The per-class weights, or null when every class counts 1.</summary>
    public IReadOnlyList<double>? ClassWeights => _classWeights;

    /// <inheritdoc/>
    /// <remarks>From 64 Ki scores the rows are split across the cores; the loss and gradient have the same bits either way.</remarks>
    public unsafe T Compute<T>(ReadOnlyMatrixSpan<T> scores, ReadOnlySpan<int> labels, MatrixSpan<T> gradient)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        LossChecks.Check(scores, labels, gradient);
        Losses.ClassWeights.CheckCount(_classWeights, scores.Columns);
        return RowTotals.Mean(scores, labels, gradient, _classWeights, &Rows<T>);
    }

    /// <summary>Rows [first, end): each row's weighted loss into its slot of the totals, and its gradient.</summary>
    private static unsafe void Rows<T>(void* state, int first, int end)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref readonly var job = ref Unsafe.AsRef<LossJob<T>>(state);
        int c = job.Columns;
        if (job.Gradient == null)
        {
            for (int i = first; i < end; i++)
            {
                var s = new ReadOnlySpan<T>(job.Scores + (long)i * c, c);
                int label = job.Labels[i];
                T max = TensorPrimitives.Max(s);
                T sum = T.Zero;
                foreach (T v in s)
                    sum += T.Exp(T.Max(v - max, Subnormal<T>.ExponentFloor)); // no subnormal exponentials (below)
                job.Totals[i] = (job.Weights == null ? 1 : job.Weights[label]) * double.CreateChecked(T.Log(sum) - (s[label] - max));
                if (!TensorPrimitives.IsFiniteAll(s))
                    job.Totals[i] = double.NaN; // see below: a non-finite score is a diverging run
            }
            return;
        }

        // With a gradient: shift every row by its max into the gradient buffer, exponentiate the
        // whole range in one vectorized call, then normalize row by row. (Per-row calls would cost
        // more in call overhead than in arithmetic for the usual handful of classes.)
        for (int i = first; i < end; i++)
        {
            var s = new ReadOnlySpan<T>(job.Scores + (long)i * c, c);
            TensorPrimitives.Subtract(s, RowMaxOf(s), new Span<T>(job.Gradient + (long)i * c, c));
        }
        // Classes more than ~86 below the row max (float) would exponentiate to subnormals, which are
        // slow on x86: clamp there, count what the clamp leaves (below 4x the smallest normal) as 0,
        // and flush what normalizing pushes below the normal range at the end.
        var block = new Span<T>(job.Gradient + (long)first * c, (end - first) * c);
        TensorPrimitives.Max(block, Subnormal<T>.ExponentFloor, block);
        TensorPrimitives.Exp(block, block);
        Subnormal.FlushBelow(block, Subnormal<T>.ExponentialZero);
        for (int i = first; i < end; i++)
        {
            var s = new ReadOnlySpan<T>(job.Scores + (long)i * c, c);
            var g = new Span<T>(job.Gradient + (long)i * c, c);
            int label = job.Labels[i];
            double weight = job.Weights == null ? 1 : job.Weights[label];
            T scale = job.InvN * T.CreateChecked(weight);
            T sum = c < 32 ? SmallSum<T>(g) : TensorPrimitives.Sum<T>(g);
            // log p_y = (s_y − m) − log Σ e^{s_j − m}, from the scores, so it stays exact when e^{s_y − m} underflows.
            // The total subtracts it: stored negated, and x + (−a) is x − a to the bit.
            job.Totals[i] = -(weight * double.CreateChecked(s[label] - RowMaxOf(s) - T.Log(sum)));
            // g = w·p / N, then subtract w/N at the correct class.
            TensorPrimitives.Multiply(g, scale / sum, g);
            g[label] -= scale;
            Subnormal.FlushAll(g);
            // A score of −∞ still gives a well-defined probability of 0, but it means the weights
            // have diverged: poison the loss and gradient so training stops instead of going on.
            if (!TensorPrimitives.IsFiniteAll(s))
            {
                job.Totals[i] = double.NaN;
                g.Fill(T.NaN);
            }
        }
    }

    private static T RowMaxOf<T>(ReadOnlySpan<T> row)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (row.Length >= 32)
            return TensorPrimitives.Max(row);
        // Like TensorPrimitives.Max: a NaN anywhere gives NaN.
        T max = row[0];
        for (int j = 1; j < row.Length && !T.IsNaN(max); j++)
            if (row[j] > max || T.IsNaN(row[j]))
                max = row[j];
        return max;
    }

    private static T SmallSum<T>(ReadOnlySpan<T> row)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T sum = T.Zero;
        foreach (T v in row)
            sum += v;
        return sum;
    }

    /// <inheritdoc/>
    public void ScoreHessian(ReadOnlySpan<double> scores, int label, Span<double> hessian)
    {
        int c = scores.Length;
        if (hessian.Length != c * c)
            throw new ArgumentException($"The Hessian of {c} scores needs {c * c} elements, not {hessian.Length}.", nameof(hessian));
        Span<double> p = c <= 64 ? stackalloc double[c] : new double[c];
        RowOps.SoftmaxRows(new ReadOnlyMatrixSpan<double>(scores, 1, c), new MatrixSpan<double>(p, 1, c));
        double weight = _classWeights?[label] ?? 1;
        for (int j = 0; j < c; j++)
            for (int k = 0; k < c; k++)
                hessian[j * c + k] = weight * ((j == k ? p[j] : 0) - p[j] * p[k]);
    }

    /// <summary>The class probabilities: the row-wise softmax of <paramref name="scores"/>, computed stably.</summary>
    /// <exception cref="ArgumentException">The destination's shape differs from the scores'.</exception>
    public static void Probabilities<T>(ReadOnlyMatrixSpan<T> scores, MatrixSpan<T> probabilities)
        where T : unmanaged, IFloatingPointIeee754<T>
        => RowOps.SoftmaxRows(scores, probabilities);

    /// <inheritdoc/>
    public override string ToString() => $"SoftmaxCrossEntropyLoss({Losses.ClassWeights.Describe(_classWeights).TrimStart(',', ' ')})";
}
