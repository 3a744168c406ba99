using System.Numerics;
using NeuralBasics.Kernels;

namespace NeuralBasics.Training;

/// <summary>
/// One pass over every parameter tensor at once, on every core: the tensors are cut into blocks of
/// <see cref="BlockLength"/> elements, and each core takes a contiguous run of blocks (so a core
/// mostly touches what the product that wrote it left in its own cache). The update phase of a
/// step is two such passes: <see cref="GradientPreparation{T}"/>, then <see cref="RuleApplication{T}"/>.
/// </summary>
/// <remarks>
/// One thread used to do this work after the products had run on all of them: for the MLP
/// 784-256-10 (203,530 parameters in four 0.8 MB arrays for Adam) it read the gradient four times
/// and, on a two-core Intel Xeon, took longer than all the step's products together, and longer
/// with two threads than with one: half of the first layer's gradient had just been written by the
/// other core, into that core's cache (reproduced on an AMD EPYC Zen 4: 172–211 µs of serial Adam
/// after a one-thread backward pass, 240–272 µs after a two-thread one). What a pass computes per
/// block does not depend on the core count.
/// </remarks>
internal abstract class BlockPass<T> : IKernelParts
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Elements per block: 16 KiB of float, a few microseconds of work.</summary>
    private const int BlockLength = 4096;

    /// <summary>Below this many parameters per core a pass stays on one thread: waking a core costs more.</summary>
    private const int MinimumPerPart = 32 * 1024;

    private readonly int _totalLength;

    protected BlockPass(IReadOnlyList<Parameter<T>> parameters)
    {
        Parameters = parameters;
        var blocks = new List<(int, int, int)>();
        for (int k = 0; k < parameters.Count; k++)
        {
            int length = parameters[k].Value.Span.Length;
            _totalLength += length;
            for (int start = 0; start < length; start += BlockLength)
                blocks.Add((k, start, Math.Min(BlockLength, length - start)));
        }
        Blocks = [.. blocks];
    }

    protected IReadOnlyList<Parameter<T>> Parameters { get; }

    /// <summary>The blocks, tensor by tensor: (tensor index, first element, length).</summary>
    protected (int Tensor, int Start, int Length)[] Blocks { get; }

    /// <summary>The work on block <paramref name="block"/>: elements [start, start + length) of tensor <paramref name="tensor"/>.</summary>
    protected abstract void RunBlock(int block, int tensor, int start, int length);

    /// <summary>Runs <see cref="RunBlock"/> for every block, on as many cores as the work is worth.</summary>
    protected void RunAllBlocks()
    {
        int parts = Math.Clamp(_totalLength / MinimumPerPart, 1, Math.Min(KernelThreads.DefaultParallelism, Blocks.Length));
        if (parts == 1)
        {
            RunBlocks(0, Blocks.Length);
            return;
        }
        KernelThreads.Run(this, parts);
    }

    /// <summary>Part p takes the p-th of <paramref name="parts"/> contiguous runs of blocks.</summary>
    void IKernelParts.RunPart(int part, int parts)
    {
        int count = Blocks.Length;
        RunBlocks((int)((long)count * part / parts), (int)((long)count * (part + 1) / parts));
    }

    private void RunBlocks(int first, int end)
    {
        for (int b = first; b < end; b++)
        {
            var (k, start, length) = Blocks[b];
            RunBlock(b, k, start, length);
        }
    }
}
