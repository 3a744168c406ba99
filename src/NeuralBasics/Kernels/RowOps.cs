using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics.X86;

namespace NeuralBasics.Kernels;

/// <summary>
/// Row-wise kernels over row-major matrices: bias add, column sums, row max, row argmax and the
/// numerically stable row softmax. Each writes into a caller-owned destination, checks every
/// length before writing anything, and allocates nothing. The element-wise work inside each row
/// goes through <see cref="TensorPrimitives"/>, which vectorizes it.
/// </summary>
/// <remarks>
/// Overlaps: a matrix destination may be the very same memory as the source (in place), but may
/// not overlap it any other way; vector destinations must not overlap their sources at all.
/// Forbidden overlaps throw <see cref="ArgumentException"/>.
/// </remarks>
public static class RowOps
{
    /// <summary>
    /// <c>destination[i, j] = source[i, j] + row[j]</c>: adds the bias row to every row
    /// (the <c>+ b</c> of <c>S = XW + b</c>). <paramref name="destination"/> may be <paramref name="source"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes disagree, or buffers overlap in a forbidden way.</exception>
    public static void AddRowVector<T>(ReadOnlyMatrixSpan<T> source, ReadOnlySpan<T> row, MatrixSpan<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (row.Length != source.Columns)
            throw new ArgumentException(
                $"The row vector has {row.Length} elements but the matrix {source.ToString()} has {source.Columns} columns.", nameof(row));
        CheckSameShape(source, destination);
        CheckInPlaceOrDisjoint(source.Span, destination.Span);
        if (row.Overlaps(destination.Span))
            throw new ArgumentException("The row vector overlaps the destination.", nameof(row));

        for (int i = 0; i < source.Rows; i++)
            TensorPrimitives.Add(source.Row(i), row, destination.Row(i));
    }

    /// <summary>
    /// <c>destination[j] = Σ_i source[i, j]</c>, or <c>destination[j] += ...</c> when
    /// <paramref name="accumulate"/>: the bias gradient <c>db = Σ_i dS[i, :]</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The destination is shorter than a row, or overlaps the source.</exception>
    public static void ColumnSums<T>(ReadOnlyMatrixSpan<T> source, Span<T> destination, bool accumulate = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckVectorDestination(destination.Length, source.Columns, "columns", source.Rows, source.Columns);
        destination = destination[..source.Columns];
        CheckDisjoint(source.Span, destination);

        if (!accumulate)
            destination.Clear();
        if (source.Columns <= NarrowColumns && Vector<T>.IsSupported)
        {
            NarrowColumnSums(source, destination);
            return;
        }
        // Adding whole rows keeps the inner loop contiguous and vectorized.
        for (int i = 0; i < source.Rows; i++)
            TensorPrimitives.Add(destination, source.Row(i), destination);
    }

    /// <summary>
    /// <c>destination[j] = Σ_i source[i, j]</c> summed in slices of rows as the GEMM sums a narrow
    /// product (<see cref="GemmDriver{T}.NarrowSlice"/> rows): each slice one chain of adds from zero
    /// in row order, the first into <paramref name="destination"/>, each later one (in
    /// <paramref name="slice"/>, a row long) added to it in turn. The bias gradient of a convolution,
    /// whose rows are a batch's output pixels (100,352 for the first layer of the Fashion-MNIST CNN
    /// at batch 128): its one-pass backward kernel sums db beside dW a slice at a time, on whichever
    /// core takes the slice, and this gives the GEMM's path the same bits. Up to one slice of rows,
    /// the bits of <see cref="ColumnSums"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The destination or the slice is shorter than a row, or overlaps the source.</exception>
    internal static void ColumnSumsInSlices<T>(ReadOnlyMatrixSpan<T> source, Span<T> destination, Span<T> slice)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckVectorDestination(slice.Length, source.Columns, "columns", source.Rows, source.Columns);
        slice = slice[..source.Columns];
        CheckDisjoint(source.Span, slice);
        int rows = source.Rows, depth = GemmDriver<T>.NarrowSlice;
        ColumnSums(source.SliceRows(0, Math.Min(depth, rows)), destination);
        for (int first = depth; first < rows; first += depth)
        {
            ColumnSums(source.SliceRows(first, Math.Min(depth, rows - first)), slice);
            TensorPrimitives.Add(destination[..source.Columns], slice, destination[..source.Columns]);
        }
    }

    /// <summary>Up to this many columns <see cref="ColumnSums"/> keeps the sums in registers down all the rows.</summary>
    private const int NarrowColumns = 128;

    /// <summary>
    /// <see cref="ColumnSums"/> of a matrix with short rows: the sums of up to four vectors of
    /// columns stay in registers down all the rows, the same additions in the same (row) order as
    /// adding whole rows, so the same bits. Adding row by row cost a call per row, which for a
    /// convolution's bias gradient (100,352 rows of 32) was a third of its backward pass.
    /// </summary>
    private static void NarrowColumnSums<T>(ReadOnlyMatrixSpan<T> source, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = source.Rows, columns = source.Columns, w = Vector<T>.Count, j = 0;
        ref T from = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(source.Span);
        ref T to = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(destination);
        // Eight vectors a pass where the row has them: each pass reads every row's lines, so a
        // convolution's bias gradient (dY, 25,088 rows of 64 floats for conv2 of the Fashion-MNIST
        // CNN: 8 vectors of 256 bits) is read once instead of twice.
        for (; j + 8 * w <= columns; j += 8 * w)
        {
            var s0 = Vector.LoadUnsafe(ref to, (nuint)j);
            var s1 = Vector.LoadUnsafe(ref to, (nuint)(j + w));
            var s2 = Vector.LoadUnsafe(ref to, (nuint)(j + 2 * w));
            var s3 = Vector.LoadUnsafe(ref to, (nuint)(j + 3 * w));
            var s4 = Vector.LoadUnsafe(ref to, (nuint)(j + 4 * w));
            var s5 = Vector.LoadUnsafe(ref to, (nuint)(j + 5 * w));
            var s6 = Vector.LoadUnsafe(ref to, (nuint)(j + 6 * w));
            var s7 = Vector.LoadUnsafe(ref to, (nuint)(j + 7 * w));
            for (int i = 0; i < rows; i++)
            {
                ref T row = ref System.Runtime.CompilerServices.Unsafe.Add(ref from, (nint)((long)i * columns + j));
                s0 += Vector.LoadUnsafe(ref row);
                s1 += Vector.LoadUnsafe(ref row, (nuint)w);
                s2 += Vector.LoadUnsafe(ref row, (nuint)(2 * w));
                s3 += Vector.LoadUnsafe(ref row, (nuint)(3 * w));
                s4 += Vector.LoadUnsafe(ref row, (nuint)(4 * w));
                s5 += Vector.LoadUnsafe(ref row, (nuint)(5 * w));
                s6 += Vector.LoadUnsafe(ref row, (nuint)(6 * w));
                s7 += Vector.LoadUnsafe(ref row, (nuint)(7 * w));
            }
            s0.StoreUnsafe(ref to, (nuint)j);
            s1.StoreUnsafe(ref to, (nuint)(j + w));
            s2.StoreUnsafe(ref to, (nuint)(j + 2 * w));
            s3.StoreUnsafe(ref to, (nuint)(j + 3 * w));
            s4.StoreUnsafe(ref to, (nuint)(j + 4 * w));
            s5.StoreUnsafe(ref to, (nuint)(j + 5 * w));
            s6.StoreUnsafe(ref to, (nuint)(j + 6 * w));
            s7.StoreUnsafe(ref to, (nuint)(j + 7 * w));
        }
        for (; j + 4 * w <= columns; j += 4 * w)
        {
            var s0 = Vector.LoadUnsafe(ref to, (nuint)j);
            var s1 = Vector.LoadUnsafe(ref to, (nuint)(j + w));
            var s2 = Vector.LoadUnsafe(ref to, (nuint)(j + 2 * w));
            var s3 = Vector.LoadUnsafe(ref to, (nuint)(j + 3 * w));
            for (int i = 0; i < rows; i++)
            {
                nuint at = (nuint)((long)i * columns + j);
                s0 += Vector.LoadUnsafe(ref from, at);
                s1 += Vector.LoadUnsafe(ref from, at + (nuint)w);
                s2 += Vector.LoadUnsafe(ref from, at + (nuint)(2 * w));
                s3 += Vector.LoadUnsafe(ref from, at + (nuint)(3 * w));
            }
            s0.StoreUnsafe(ref to, (nuint)j);
            s1.StoreUnsafe(ref to, (nuint)(j + w));
            s2.StoreUnsafe(ref to, (nuint)(j + 2 * w));
            s3.StoreUnsafe(ref to, (nuint)(j + 3 * w));
        }
        for (; j + w <= columns; j += w)
        {
            var sum = Vector.LoadUnsafe(ref to, (nuint)j);
            for (int i = 0; i < rows; i++)
                sum += Vector.LoadUnsafe(ref from, (nuint)((long)i * columns + j));
            sum.StoreUnsafe(ref to, (nuint)j);
        }
        for (; j < columns; j++)
        {
            T sum = destination[j];
            for (int i = 0; i < rows; i++)
                sum += System.Runtime.CompilerServices.Unsafe.Add(ref from, (nint)((long)i * columns + j));
            destination[j] = sum;
        }
    }

    /// <summary><c>destination[i] = max_j source[i, j]</c>. A row holding NaN gives NaN.</summary>
    /// <exception cref="ArgumentException">The matrix has rows but no columns, the destination is shorter than the row count, or it overlaps the source.</exception>
    public static void RowMax<T>(ReadOnlyMatrixSpan<T> source, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckHasColumns(source);
        CheckVectorDestination(destination.Length, source.Rows, "rows", source.Rows, source.Columns);
        CheckDisjoint(source.Span, destination[..source.Rows]);

        for (int i = 0; i < source.Rows; i++)
            destination[i] = TensorPrimitives.Max(source.Row(i));
    }

    /// <summary>
    /// <c>destination[i] = argmax_j source[i, j]</c>: the predicted class of each row of scores.
    /// Ties go to the lowest index; a row holding NaN gives the index of its first NaN.
    /// </summary>
    /// <exception cref="ArgumentException">The matrix has rows but no columns, or the destination is shorter than the row count.</exception>
    public static void RowArgMax<T>(ReadOnlyMatrixSpan<T> source, Span<int> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckHasColumns(source);
        CheckVectorDestination(destination.Length, source.Rows, "rows", source.Rows, source.Columns);

        for (int i = 0; i < source.Rows; i++)
            destination[i] = TensorPrimitives.IndexOfMax(source.Row(i));
    }

    /// <summary>
    /// Row-wise softmax, <c>p[i, j] = exp(s[i, j] − m_i) / Σ_k exp(s[i, k] − m_i)</c> with
    /// <c>m_i = max_k s[i, k]</c>. Subtracting the row max changes nothing mathematically but keeps
    /// every exponent at most 0, so scores of ±1e4 give exact probabilities instead of ∞/∞.
    /// (<see cref="TensorPrimitives.SoftMax{T}(ReadOnlySpan{T}, Span{T})"/> does not subtract it.)
    /// <paramref name="destination"/> may be <paramref name="source"/>. From 64 Ki elements the rows
    /// are split across the cores (<see cref="Gemm.DefaultMaxDegreeOfParallelism"/>); every row is
    /// computed the same way either way.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes disagree, or buffers overlap in a forbidden way.</exception>
    public static unsafe void SoftmaxRows<T>(ReadOnlyMatrixSpan<T> source, MatrixSpan<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckSameShape(source, destination);
        CheckInPlaceOrDisjoint(source.Span, destination.Span);
        if (source.Columns == 0 || source.Rows == 0)
            return;

        fixed (T* sourcePointer = source.Span)
        fixed (T* destinationPointer = destination.Span)
        {
            var job = new SoftmaxJob<T> { Source = sourcePointer, Destination = destinationPointer, Columns = source.Columns };
            RowRanges.Run(&SoftmaxRange<T>, &job, source.Rows, source.Columns);
        }
    }

    private unsafe struct SoftmaxJob<T>
        where T : unmanaged
    {
        public T* Source, Destination;
        public int Columns;
    }

    private static unsafe void SoftmaxRange<T>(void* state, int first, int end)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref readonly var job = ref System.Runtime.CompilerServices.Unsafe.AsRef<SoftmaxJob<T>>(state);
        int c = job.Columns;
        for (int i = first; i < end; i++)
        {
            var s = new ReadOnlySpan<T>(job.Source + (long)i * c, c);
            var p = new Span<T>(job.Destination + (long)i * c, c);
            T max = TensorPrimitives.Max(s);
            TensorPrimitives.Subtract(s, max, p);
            // Never exponentiate into (or leave behind) subnormals: see Subnormal.
            TensorPrimitives.Max(p, Subnormal<T>.ExponentFloor, p);
            TensorPrimitives.Exp(p, p);
            Subnormal.FlushBelow(p, Subnormal<T>.ExponentialZero);
            T sum = TensorPrimitives.Sum<T>(p);
            TensorPrimitives.Divide(p, sum, p);
            Subnormal.FlushAll(p);
        }
    }

    /// <summary>
    /// <c>destination.Row(r) = source.Row(rows[r])</c>: gathers a shuffled mini-batch into a reused
    /// buffer. Rows picked at random from a data set far larger than the caches each start with a
    /// cache miss, so on x86 the rows a few places ahead are prefetched while the current one is
    /// copied (Fashion-MNIST, batches of 128: 18.6 → 13.3 ms of gathering per epoch), and a batch of
    /// 64 Ki elements or more is split across the cores, each waiting on its own misses (on a 2-core
    /// AMD EPYC Zen 4: 35 → 20 ms per epoch), which also leaves part of the batch in each core's
    /// cache for the matrix products that read it next.
    /// </summary>
    /// <exception cref="ArgumentException">The column counts differ, the destination has fewer rows than indices, or the buffers overlap.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the source's rows; nothing is written.</exception>
    public static unsafe void GatherRows<T>(ReadOnlyMatrixSpan<T> source, ReadOnlySpan<int> rows, MatrixSpan<T> destination)
        where T : unmanaged
    {
        if (destination.Columns != source.Columns || destination.Rows < rows.Length)
            throw new ArgumentException(
                $"Gathering {rows.Length} rows of {source.ToString()} needs a destination of at least {Shape.Of(rows.Length, source.Columns)}, not {destination.ToString()}.",
                nameof(destination));
        CheckDisjoint(source.Span, destination.Span);
        for (int r = 0; r < rows.Length; r++)
            if ((uint)rows[r] >= (uint)source.Rows)
                throw new ArgumentOutOfRangeException(nameof(rows), rows[r], $"Row index {r} is outside the {source.Rows} rows of the source.");

        fixed (T* sourcePointer = source.Span)
        fixed (int* rowPointer = rows)
        fixed (T* destinationPointer = destination.Span)
        {
            var job = new GatherJob<T> { Source = sourcePointer, Rows = rowPointer, Destination = destinationPointer, Columns = source.Columns };
            RowRanges.Run(&GatherRange<T>, &job, rows.Length, source.Columns, minRowsPerPart: 16);
        }
    }

    private unsafe struct GatherJob<T>
        where T : unmanaged
    {
        public T* Source, Destination;
        public int* Rows;
        public int Columns;
    }

    /// <summary>Copies the rows [first, end), prefetching a few rows ahead.</summary>
    private static unsafe void GatherRange<T>(void* state, int first, int end)
        where T : unmanaged
    {
        ref readonly var job = ref System.Runtime.CompilerServices.Unsafe.AsRef<GatherJob<T>>(state);
        const int prefetchDistance = 4;
        int columns = job.Columns;
        int lineElements = Math.Max(1, 64 / sizeof(T));
        for (int r = first; r < end; r++)
        {
            if (Sse.IsSupported && r + prefetchDistance < end)
            {
                T* ahead = job.Source + (long)job.Rows[r + prefetchDistance] * columns;
                for (int k = 0; k < columns; k += lineElements)
                    Sse.Prefetch0(ahead + k);
            }
            new ReadOnlySpan<T>(job.Source + (long)job.Rows[r] * columns, columns).CopyTo(new Span<T>(job.Destination + (long)r * columns, columns));
        }
    }

    private static void CheckSameShape<T>(ReadOnlyMatrixSpan<T> source, MatrixSpan<T> destination)
    {
        if (source.Rows != destination.Rows || source.Columns != destination.Columns)
            throw new ArgumentException(
                $"The destination is {destination.ToString()} but the source is {source.ToString()}.", nameof(destination));
    }

    private static void CheckHasColumns<T>(ReadOnlyMatrixSpan<T> source)
    {
        if (source.Columns == 0 && source.Rows > 0)
            throw new ArgumentException($"The matrix {source.ToString()} has rows but no columns, so its rows have no maximum.", nameof(source));
    }

    private static void CheckVectorDestination(int length, int needed, string what, int rows, int columns)
    {
        if (length < needed)
            throw new ArgumentException(
                $"The destination holds {length} elements but the matrix {Shape.Of(rows, columns)} has {needed} {what}.", "destination");
    }

    private static void CheckInPlaceOrDisjoint<T>(ReadOnlySpan<T> source, ReadOnlySpan<T> destination)
    {
        if (source.Overlaps(destination, out int offset) && !(offset == 0 && source.Length == destination.Length))
            throw new ArgumentException(
                "The destination partly overlaps the source: it must be the same memory (in place) or not overlap at all.", "destination");
    }

    private static void CheckDisjoint<T>(ReadOnlySpan<T> source, ReadOnlySpan<T> destination)
    {
        if (source.Overlaps(destination))
            throw new ArgumentException("The destination overlaps the source.", "destination");
    }
}
