using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NeuralBasics.Kernels;
using NeuralBasics.Losses;
using NeuralBasics.Regularization;

namespace NeuralBasics.Training;

/// <summary>
/// Synchronous data parallelism: the batch is cut into one contiguous shard per worker (sizes
/// differing by at most one), each worker computes its shard's loss and gradient on its own replica
/// of the network, side by side on the kernel threads, and the gradients are summed in worker order,
/// each weighted by its share of the batch (every shard's loss is a mean over its own rows). The
/// order is fixed, so results are deterministic and equal to one worker's up to float rounding.
/// </summary>
/// <remarks>Worker 0 is the score function itself; the replicas take its values at the start of every batch.</remarks>
internal sealed unsafe class ShardedGradient<T> : GradientComputation<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IScoreFunction<T>[] _replicas;
    private readonly T[] _shardLosses;

    public ShardedGradient(IScoreFunction<T> score, ILoss loss, IRegularizer? regularizer, int workers)
        : base(score, loss, regularizer)
    {
        _replicas = [score, .. Enumerable.Range(1, workers - 1).Select(_ => score.Clone())];
        // The other replicas only ever train: their dropout is always in training mode.
        foreach (var replica in _replicas.Skip(1))
            if (replica is Layers.ITrainingMode mode)
                mode.IsTraining = true;
        _shardLosses = new T[workers];
    }

    public override int Workers => _replicas.Length;

    private protected override T ComputeDataGradient(ReadOnlyMatrixSpan<T> inputs, ReadOnlySpan<int> labels, MatrixSpan<T> scores, MatrixSpan<T> dScores)
    {
        int n = inputs.Rows;
        int shards = Math.Min(_replicas.Length, n);
        var parameters = Score.Parameters;
        for (int w = 1; w < shards; w++)
        {
            var replica = _replicas[w].Parameters;
            for (int k = 0; k < parameters.Count; k++)
                parameters[k].Value.Span.CopyTo(replica[k].Value.Span);
        }
        if (shards <= 1)
        {
            Score.Forward(inputs, scores);
            T single = Loss.Compute(scores, labels, dScores);
            if (T.IsFinite(single))
                Score.Backward(inputs, dScores, default);
            return single;
        }

        var handle = GCHandle.Alloc(this);
        try
        {
            fixed (T* x = inputs.Span)
            fixed (T* s = scores.Span)
            fixed (T* ds = dScores.Span)
            fixed (int* y = labels)
            {
                var job = new ShardJob
                {
                    Self = GCHandle.ToIntPtr(handle),
                    Inputs = x, Scores = s, DScores = ds, Labels = y,
                    Rows = n, Columns = inputs.Columns, Classes = Score.ClassCount, Shards = shards,
                };
                KernelThreads.Run(&RunShard, &job, shards);
            }
        }
        finally
        {
            handle.Free();
        }

        T loss = T.Zero;
        for (int w = 0; w < shards; w++)
        {
            T share = T.CreateChecked(ShardRange(n, shards, w).Count) / T.CreateChecked(n);
            loss += share * _shardLosses[w];
            if (!T.IsFinite(_shardLosses[w]))
                return _shardLosses[w];
            var replica = _replicas[w].Parameters;
            for (int k = 0; k < parameters.Count; k++)
            {
                var total = parameters[k].Gradient.Span;
                if (w == 0)
                    TensorPrimitives.Multiply(total, share, total);
                else
                    TensorPrimitives.MultiplyAdd(replica[k].Gradient.Span, share, total, total);
            }
        }
        return loss;
    }

    /// <summary>The work of one step: pointers to the batch and its buffers, and how it is cut.</summary>
    private struct ShardJob
    {
        public nint Self;
        public T* Inputs, Scores, DScores;
        public int* Labels;
        public int Rows, Columns, Classes, Shards;
    }

    private static void RunShard(void* state, int shard)
    {
        ref readonly ShardJob job = ref Unsafe.AsRef<ShardJob>(state);
        var self = (ShardedGradient<T>)GCHandle.FromIntPtr(job.Self).Target!;
        var (start, count) = ShardRange(job.Rows, job.Shards, shard);
        var x = new ReadOnlyMatrixSpan<T>(new ReadOnlySpan<T>(job.Inputs + (long)start * job.Columns, count * job.Columns), count, job.Columns);
        var s = new MatrixSpan<T>(new Span<T>(job.Scores + (long)start * job.Classes, count * job.Classes), count, job.Classes);
        var ds = new MatrixSpan<T>(new Span<T>(job.DScores + (long)start * job.Classes, count * job.Classes), count, job.Classes);
        var replica = self._replicas[shard];
        replica.Forward(x, s);
        T loss = self.Loss.Compute(s, new ReadOnlySpan<int>(job.Labels + start, count), ds);
        self._shardLosses[shard] = loss;
        if (T.IsFinite(loss))
            replica.Backward(x, ds, default);
    }

    /// <summary>Shard <paramref name="shard"/> of <paramref name="shards"/> over <paramref name="rows"/> rows: contiguous, sizes differing by at most one.</summary>
    private static (int Start, int Count) ShardRange(int rows, int shards, int shard)
    {
        int baseSize = rows / shards, extra = rows % shards;
        int start = shard * baseSize + Math.Min(shard, extra);
        return (start, baseSize + (shard < extra ? 1 : 0));
    }
}
