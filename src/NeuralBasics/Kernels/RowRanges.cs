using System.Runtime.CompilerServices;

namespace NeuralBasics.Kernels;

/// <summary>
/// Row-wise work over a matrix split into contiguous row ranges, one per core, when the matrix is
/// large enough to pay for waking the workers. Each row is computed exactly as in one pass, so
/// the results have the same bits on any number of cores. Used by the losses,
/// <see cref="RowOps.SoftmaxRows{T}"/> and <see cref="RowOps.GatherRows{T}"/>.
/// </summary>
internal static unsafe class RowRanges
{
    /// <summary>
    /// Elements (rows x columns) from which the rows are split: 64 Ki (a batch of 512 samples of
    /// 128 classes, or 6,554 of 10; a batch of 84 Fashion-MNIST images to gather).
    /// </summary>
    internal const long ParallelElements = 1 << 16;

    /// <summary>
    /// Runs <paramref name="body"/>(<paramref name="state"/>, first, end) over [0, <paramref name="rows"/>):
    /// once on this thread for a small matrix, else once per row range on the kernel threads, each
    /// range at least <paramref name="minRowsPerPart"/> rows, <paramref name="partsPerThread"/>
    /// ranges per core at most.
    /// </summary>
    /// <remarks>
    /// One range per core keeps each core on the rows it wrote in the step before (a chain of
    /// passes over the same rows stays in each core's cache). Work whose rows are read cold and
    /// take long may ask for more ranges than cores: the cores take them as they come free, so a
    /// core slowed by a neighbour (these machines share theirs) costs its share of the time, not
    /// the other core's wait for its half.
    /// </remarks>
    public static void Run(delegate*<void*, int, int, void> body, void* state, int rows, int columns, int minRowsPerPart = 1, int partsPerThread = 1)
    {
        int threads = (long)rows * columns >= ParallelElements ? KernelThreads.DefaultParallelism : 1;
        int parts = threads > 1 ? Math.Min(partsPerThread * threads, Math.Max(1, rows / minRowsPerPart)) : 1;
        if (parts <= 1)
        {
            body(state, 0, rows);
            return;
        }
        var job = new Job { Body = body, State = state, Rows = rows, Parts = parts };
        // At most the cores allowed: with several parts a core, the workers would otherwise all join.
        KernelThreads.Run(&RunPart, &job, parts, threads);
    }

    private struct Job
    {
        public delegate*<void*, int, int, void> Body;
        public void* State;
        public int Rows, Parts;
    }

    private static void RunPart(void* state, int part)
    {
        ref readonly Job job = ref Unsafe.AsRef<Job>(state);
        int first = (int)((long)job.Rows * part / job.Parts), end = (int)((long)job.Rows * (part + 1) / job.Parts);
        job.Body(job.State, first, end);
    }
}
