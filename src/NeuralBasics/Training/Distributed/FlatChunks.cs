using System.Numerics;
using System.Numerics.Tensors;

namespace NeuralBasics.Training.Distributed;

/// <summary>The flattened gradients of a peer all-reduce cut into chunks, and the values of a chunk added in or copied out.</summary>
internal static class FlatChunks
{
    /// <summary>
    /// A worker's contribution to a peer all-reduce, checked before anything is sent: its id among
    /// the <paramref name="workerCount"/> workers, its rows, finite gradients when it has rows.
    /// Returns the number of values in all the gradients.
    /// </summary>
    internal static long CheckContribution<T>(MessageStamp stamp, int rows, IReadOnlyList<Memory<T>> gradients, int workerCount)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(gradients);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if ((uint)stamp.Worker >= (uint)workerCount)
            throw new ArgumentException($"Worker {stamp.Worker} is not one of the {workerCount} workers of this all-reduce.", nameof(stamp));
        if (rows > 0)
            AllReduceCore<T>.RequireFinite(stamp, [.. gradients.Select(g => (ReadOnlyMemory<T>)g)]);
        return gradients.Sum(g => (long)g.Length);
    }

    /// <summary>Chunk <paramref name="c"/> of <paramref name="n"/> of <paramref name="total"/> values: the first ones one longer when n does not divide.</summary>
    internal static (long Start, int Length) Chunk(long total, int n, int c)
    {
        long size = total / n, extra = total % n;
        return (c * size + Math.Min(c, extra), (int)(size + (c < extra ? 1 : 0)));
    }

    /// <summary><paramref name="sum"/> += the flattened gradients' values from <paramref name="start"/>.</summary>
    internal static void AddFlat<T>(IReadOnlyList<Memory<T>> gradients, long start, T[] sum)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int done = 0;
        foreach (var (tensor, offset, length) in Pieces(gradients, start, sum.Length))
        {
            var part = sum.AsSpan(done, length);
            TensorPrimitives.Add(part, tensor.Span.Slice(offset, length), part);
            done += length;
        }
    }

    /// <summary>The flattened gradients' values from <paramref name="start"/> = <paramref name="values"/>.</summary>
    internal static void CopyFlat<T>(T[] values, IReadOnlyList<Memory<T>> gradients, long start)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int done = 0;
        foreach (var (tensor, offset, length) in Pieces(gradients, start, values.Length))
        {
            values.AsSpan(done, length).CopyTo(tensor.Span.Slice(offset, length));
            done += length;
        }
    }

    /// <summary>The (tensor, offset, length) pieces of the flat range [start, start + count).</summary>
    private static IEnumerable<(Memory<T> Tensor, int Offset, int Length)> Pieces<T>(IReadOnlyList<Memory<T>> gradients, long start, int count)
    {
        long position = 0;
        foreach (var tensor in gradients)
        {
            long end = position + tensor.Length;
            if (count > 0 && end > start)
            {
                int offset = (int)Math.Max(0, start - position);
                int length = (int)Math.Min(count, tensor.Length - offset);
                yield return (tensor, offset, length);
                start += length;
                count -= length;
            }
            position = end;
        }
    }
}
