using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Kernels;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Scoring;
using NeuralBasics.Training;

namespace NeuralBasics.Tests;

/// <summary>Zero allocations once warm: kernels, row operations, training steps and epochs.</summary>
[Collection(AllocationCollection.Name)]
public class AllocationTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    public void WarmCall_AllocatesNothing(int threads)
    {
        var a = TestData.Uniform<float>(256, 256, 1);
        var b = TestData.Uniform<float>(256, 256, 2);
        var c = new Matrix<float>(256, 256);
        for (int i = 0; i < 3; i++)
        {
            Gemm.Multiply(a, b, c, maxDegreeOfParallelism: threads);
            Gemm.MultiplyTransposeA(a, b, c, maxDegreeOfParallelism: threads);
            Gemm.MultiplyTransposeB(a, b, c, maxDegreeOfParallelism: threads);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        Gemm.Multiply(a, b, c, maxDegreeOfParallelism: threads);
        Gemm.MultiplyTransposeA(a, b, c, maxDegreeOfParallelism: threads);
        Gemm.MultiplyTransposeB(a, b, c, maxDegreeOfParallelism: threads);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>Deep products sliced along K (a convolution's weight gradient, a full-batch gradient): their slices' sums live in the packing buffers.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    public void WarmDeepNarrowProducts_AllocateNothing(int threads)
    {
        var patches = TestData.Uniform<float>(3 * GemmDriver<float>.NarrowSlice + 5, 9, 1);
        var dy = TestData.Uniform<float>(patches.Rows, 32, 2);
        var dw = new Matrix<float>(9, 32);
        var scores = TestData.Uniform<float>(patches.Rows, 10, 3);
        var narrow = new Matrix<float>(9, 10);
        for (int i = 0; i < 3; i++)
        {
            Gemm.MultiplyTransposeA(patches, dy, dw, maxDegreeOfParallelism: threads);
            Gemm.MultiplyTransposeA(patches, scores, narrow, maxDegreeOfParallelism: threads);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        Gemm.MultiplyTransposeA(patches, dy, dw, maxDegreeOfParallelism: threads);
        Gemm.MultiplyTransposeA(patches, scores, narrow, maxDegreeOfParallelism: threads);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void WarmCalls_AllocateNothing()
    {
        var x = TestData.Uniform<float>(64, 10, 1);
        var p = new Matrix<float>(64, 10);
        var bias = new float[10];
        var sums = new float[10];
        var max = new float[64];
        var arg = new int[64];
        void All()
        {
            RowOps.AddRowVector<float>(x, bias, p);
            RowOps.ColumnSums<float>(x, sums);
            RowOps.RowMax<float>(x, max);
            RowOps.RowArgMax<float>(x, arg);
            RowOps.SoftmaxRows<float>(x, p);
        }
        All();
        long before = GC.GetAllocatedBytesForCurrentThread();
        All();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void WarmNetworkTrainingStep_AllocatesNothingPerBatch()
    {
        var data = SyntheticData.Blobs<float>(500, 3, 20, seed: 1);
        long Allocated(int epochs)
        {
            var net = new NetworkBuilder<float>(20, seed: 1).Dense(16, new Relu()).Maxout(8, 2).Dense(3).Build();
            var trainer = new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-3), new Adam(),
                new TrainerOptions { Epochs = epochs, BatchSize = 30 });
            trainer.Train(data);
            long before = GC.GetAllocatedBytesForCurrentThread();
            trainer.Train(data);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        // The least of three tries: a per-batch allocation shows in every one, while a one-off (once, in
        // a full test run, 2,776 bytes landed in one 4-epoch run) does not.
        long perEpoch = Enumerable.Range(0, 3).Min(_ => (Allocated(4) - Allocated(2)) / 2);
        Assert.True(perEpoch < 600, $"{perEpoch} bytes per epoch of 50 batches");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    public void WarmTrainingStep_OfTheBenchmarkedMlp_AllocatesNothing(int threads)
    {
        int saved = NeuralBasics.Kernels.Gemm.DefaultMaxDegreeOfParallelism;
        try
        {
            NeuralBasics.Kernels.Gemm.DefaultMaxDegreeOfParallelism = threads;
            var net = new NetworkBuilder<float>(784, seed: 1).Dense(256, new Relu()).Dense(10).Build();
            var step = new TrainingStep<float>(net, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-5), new Adam(1e-4));
            var x = TestData.Uniform<float>(128, 784, 3);
            int[] y = Enumerable.Range(0, 128).Select(i => i % 10).ToArray();
            // Warm well past the first calls: lazily initialized runtime paths and tier-up run once.
            for (int warm = 0; warm < 10; warm++)
                step.Run(x, y);
            long before = GC.GetAllocatedBytesForCurrentThread();
            float loss = step.Run(x, y);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.True(float.IsFinite(loss));
        }
        finally
        {
            NeuralBasics.Kernels.Gemm.DefaultMaxDegreeOfParallelism = saved;
        }
    }

    [Fact]
    public void WarmTrainingStep_AllocatesNothingPerBatch()
    {
        // 50 batches an epoch. Two more epochs may allocate each epoch's small result record, but
        // any allocation per batch (24 bytes at the least) would add at least 2 x 50 x 24 bytes.
        var data = SyntheticData.Blobs<float>(500, 3, 20, seed: 1);
        long Allocated(int epochs)
        {
            var trainer = new Trainer<float>(new LinearScore<float>(20, 3), new MulticlassHingeLoss(), new L2Regularization(1e-3), new Sgd(1e-3),
                new TrainerOptions { Epochs = epochs, BatchSize = 30 });
            trainer.Train(data);
            long before = GC.GetAllocatedBytesForCurrentThread();
            trainer.Train(data);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        // The least of three tries: a per-batch allocation shows in every one, while a one-off (once, in
        // a full test run, 2,776 bytes landed in one 4-epoch run) does not.
        long perEpoch = Enumerable.Range(0, 3).Min(_ => (Allocated(4) - Allocated(2)) / 2);
        Assert.True(perEpoch < 600, $"{perEpoch} bytes per epoch of 50 batches");
    }
}
