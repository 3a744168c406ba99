using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NeuralBasics.Kernels;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Scoring;

namespace NeuralBasics.Training;

/// <summary>
/// What a training step does between the backward pass and the next forward pass, over every
/// parameter tensor at once and on every core: add the regularization gradient, check that the
/// gradient is finite and measure its global norm (one pass), then apply the update rule (a second
/// pass). The tensors are cut into blocks of <see cref="BlockLength"/> elements, and each core takes
/// a contiguous run of blocks.
/// </summary>
/// <remarks>
/// <para>
/// One thread used to do this after the products had run on all of them: for the MLP 784-256-10
/// (203,530 parameters in four 0.8 MB arrays for Adam) it read the gradient four times (two
/// finiteness scans, the norm, the update) and, on a two-core Intel Xeon, took longer than all the
/// step's products together, and longer with two threads than with one: half of the first layer's
/// gradient had just been written by the other core, into that core's cache. Cut in contiguous
/// halves like the product that wrote it, each core now updates mostly what it wrote.
/// </para>
/// <para>
/// Results do not depend on the core count: the update is element-wise, and the norm is summed
/// per block, then over the blocks in order. A regularizer other than L2 (or none) is applied to
/// whole tensors on the calling thread first, since its gradient need not be element-wise.
/// </para>
/// </remarks>
internal sealed unsafe class ParameterUpdate<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Elements per block: 16 KiB of float, a few microseconds of work.</summary>
    private const int BlockLength = 4096;

    /// <summary>Below this many parameters per core the update stays on one thread: waking a core costs more.</summary>
    private const int MinimumPerPart = 32 * 1024;

    private readonly IReadOnlyList<Parameter<T>> _parameters;
    private readonly IRegularizer _regularizer;
    private readonly bool _regularizeInBlocks;
    private readonly UpdateRule _rule;
    private readonly UpdateState[] _states;
    private readonly (int Tensor, int Start, int Length)[] _blocks;
    private readonly double[] _blockSquares;
    private readonly double[] _learningRates;
    private readonly int _totalLength;

    public ParameterUpdate(IReadOnlyList<Parameter<T>> parameters, IRegularizer regularizer, UpdateRule rule, UpdateState[] states)
    {
        _parameters = parameters;
        _regularizer = regularizer;
        _regularizeInBlocks = regularizer is L2Regularization or NoRegularization;
        _rule = rule;
        _states = states;
        var blocks = new List<(int, int, int)>();
        for (int k = 0; k < parameters.Count; k++)
        {
            int length = parameters[k].Value.Span.Length;
            _totalLength += length;
            for (int start = 0; start < length; start += BlockLength)
                blocks.Add((k, start, Math.Min(BlockLength, length - start)));
        }
        _blocks = [.. blocks];
        _blockSquares = new double[_blocks.Length];
        _learningRates = new double[parameters.Count];
    }

    /// <summary>
    /// Adds the regularization gradient, then returns the global norm <c>√(Σ g²)</c> of the
    /// gradient, or null with the name of the first tensor whose gradient is not finite.
    /// </summary>
    public double? PrepareGradients(out string? nonFinite)
    {
        if (!_regularizeInBlocks)
            foreach (var p in _parameters)
                if (p.IsRegularized)
                    _regularizer.AddGradient<T>(p.Value.Span, p.Gradient.Span);
        Run(Phase.Prepare);

        double squares = 0;
        for (int b = 0; b < _blocks.Length; b++)
        {
            if (double.IsNaN(_blockSquares[b]))
            {
                nonFinite = _parameters[_blocks[b].Tensor].Name;
                return null;
            }
            squares += _blockSquares[b];
        }
        nonFinite = null;
        return Math.Sqrt(squares);
    }

    /// <summary>Multiplies every gradient by <paramref name="factor"/> (clipping).</summary>
    public void ScaleGradients(T factor)
    {
        foreach (var p in _parameters)
            TensorPrimitives.Multiply(p.Gradient.Span, factor, p.Gradient.Span);
    }

    /// <summary>One update-rule step on every tensor, from gradients <see cref="PrepareGradients"/> found finite.</summary>
    public void Update()
    {
        for (int k = 0; k < _states.Length; k++)
            _learningRates[k] = _rule.LearningRateOf<T>(_states[k]);
        Run(Phase.Update);
        foreach (var state in _states)
            state.Step++;
    }

    private enum Phase
    {
        Prepare,
        Update,
    }

    private struct Job
    {
        public nint Self;
        public Phase Phase;
        public int Parts;
    }

    private void Run(Phase phase)
    {
        int parts = Math.Clamp(_totalLength / MinimumPerPart, 1, Math.Min(KernelThreads.DefaultParallelism, _blocks.Length));
        if (parts == 1)
        {
            RunBlocks(phase, 0, _blocks.Length);
            return;
        }
        var handle = GCHandle.Alloc(this);
        try
        {
            var job = new Job { Self = GCHandle.ToIntPtr(handle), Phase = phase, Parts = parts };
            KernelThreads.Run(&RunPart, &job, parts);
        }
        finally
        {
            handle.Free();
        }
    }

    /// <summary>Part p takes the p-th of <c>parts</c> contiguous runs of blocks.</summary>
    private static void RunPart(void* state, int part)
    {
        ref readonly Job job = ref Unsafe.AsRef<Job>(state);
        var self = (ParameterUpdate<T>)GCHandle.FromIntPtr(job.Self).Target!;
        int count = self._blocks.Length;
        self.RunBlocks(job.Phase, (int)((long)count * part / job.Parts), (int)((long)count * (part + 1) / job.Parts));
    }

    private void RunBlocks(Phase phase, int first, int end)
    {
        for (int b = first; b < end; b++)
        {
            var (k, start, length) = _blocks[b];
            var p = _parameters[k];
            var w = p.Value.Span.Slice(start, length);
            var g = p.Gradient.Span.Slice(start, length);
            if (phase == Phase.Prepare)
            {
                if (_regularizeInBlocks && p.IsRegularized)
                    _regularizer.AddGradient<T>(w, g);
                _blockSquares[b] = SumOfSquares(g);
            }
            else
            {
                _rule.ApplySlice(w, g, _states[k], start, _learningRates[k]);
            }
        }
    }

    /// <summary>Σ g² of one block in double, or NaN when the block holds NaN or ∞.</summary>
    private static double SumOfSquares(ReadOnlySpan<T> g)
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
