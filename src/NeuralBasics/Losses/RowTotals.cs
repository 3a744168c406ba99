using NeuralBasics.Kernels;

namespace NeuralBasics.Losses;

/// <summary>
/// Each row's share of a loss, written by whichever core computed the row (<see cref="RowRanges"/>)
/// and then summed in row order on the calling thread: the total has the same bits as one pass
/// summing as it goes, on any number of cores.
/// </summary>
internal static unsafe class RowTotals
{
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
