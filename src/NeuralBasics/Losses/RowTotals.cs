using NeuralBasics.Kernels;

namespace NeuralBasics.Losses;

/// <summary>
/// Each row's share of a loss, written by whichever core computed the row (<see cref="RowRanges"/>)
/// and then summed in row order on the calling thread: the total has the same bits as one pass
/// summing as it goes, on any number of cores.
/// </summary>
internal static unsafe class RowTotals
{
    /// <summary>
    /// Runs <paramref name="rows"/>(job, first, end) over the scores' rows (split across the cores
    /// when large, <see cref="RowRanges"/>) and returns the mean of the row totals it wrote.
    /// </summary>
    public static T Mean<T>(ReadOnlyMatrixSpan<T> scores, ReadOnlySpan<int> labels, MatrixSpan<T> gradient, double[]? classWeights,
        delegate*<void*, int, int, void> rows, T delta = default, bool squared = false)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int n = scores.Rows;
        fixed (T* s = scores.Span)
        fixed (int* y = labels)
        fixed (T* g = gradient.Span)
        fixed (double* w = classWeights)
        fixed (double* totals = Rent(n))
        {
            var job = new LossJob<T>
            {
                Scores = s, Labels = y, Gradient = gradient.IsEmpty ? null : g, Weights = w, Totals = totals,
                Columns = scores.Columns, InvN = T.One / T.CreateChecked(n), Delta = delta, Squared = squared,
            };
            RowRanges.Run(rows, &job, n, scores.Columns);
            return T.CreateChecked(Sum(totals, n) / n);
        }
    }

    [ThreadStatic] private static double[]? t_totals;

    /// <summary>This thread's buffer of at least <paramref name="rows"/> slots, grown on demand and then reused.</summary>
    public static double[] Rent(int rows)
    {
        var totals = t_totals;
        if (totals is null || totals.Length < rows)
            t_totals = totals = new double[Math.Max(rows, 256)];
        return totals;
    }

    /// <summary>The slots' sum, first to last: <c>((0 + t[0]) + t[1]) + …</c>.</summary>
    public static double Sum(double* totals, int rows)
    {
        double sum = 0;
        for (int i = 0; i < rows; i++)
            sum += totals[i];
        return sum;
    }
}

/// <summary>
/// What a loss's rows need (<see cref="RowTotals.Mean"/>): the scores, labels, the gradient (null
/// without one), the class weights (null for none), each row's total, 1/N and the hinge losses' Δ.
/// </summary>
internal unsafe struct LossJob<T>
    where T : unmanaged
{
    public T* Scores, Gradient;
    public int* Labels;
    public double* Weights, Totals;
    public int Columns;
    public T InvN, Delta;
    public bool Squared;
}
