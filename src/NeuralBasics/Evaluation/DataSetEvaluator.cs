using System.Numerics;
using NeuralBasics.Data;
using NeuralBasics.Kernels;
using NeuralBasics.Losses;

namespace NeuralBasics.Evaluation;

/// <summary>
/// Mean data loss and accuracy of a score function over a whole data set, as the trainer measures
/// its validation set (and, when asked, its training set) after an epoch. Fused: the rows go in
/// chunks, and each chunk's forward pass, loss and argmax run back to back while its scores are in
/// cache, so no N x C score matrix is kept. Parallel: the chunks are dealt round-robin to one copy
/// of the score function per core (each running its products on its own thread), and the chunk
/// results are summed in chunk order, so the figures do not depend on how many cores there are.
/// </summary>
/// <remarks>One instance per training run; the copies are made once and refreshed from the trained score function at each call.</remarks>
internal sealed class DataSetEvaluator<T> : IKernelParts
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Rows per chunk: 1,024 (1,024 x 784 floats of input fit in L2), fewer for a network whose rows keep many values (<see cref="Layers.ScoringChunks"/>), so its buffers stay small.</summary>
    private readonly int _chunkRows;

    private readonly IScoreFunction<T> _score;
    private readonly ILoss _loss;
    private readonly IScoreFunction<T>[] _workers;
    private readonly T[][] _scores;
    private readonly int[][] _predicted;
    private double[] _chunkLoss = [];
    private int[] _chunkCorrect = [];
    private DataSet<T>? _data;
    private int _chunks;

    /// <summary>Evaluates <paramref name="score"/> (read, never changed) under <paramref name="loss"/>.</summary>
    public DataSetEvaluator(IScoreFunction<T> score, ILoss loss)
    {
        _score = score;
        _loss = loss;
        int workers = KernelThreads.DefaultParallelism;
        // Worker 0 is the score function itself; the others are copies refreshed before each call.
        _workers = [score, .. Enumerable.Range(1, workers - 1).Select(_ => score.Clone())];
        _chunkRows = Layers.ScoringChunks.Rows(score);
        _scores = [.. _workers.Select(_ => new T[_chunkRows * score.ClassCount])];
        _predicted = [.. _workers.Select(_ => new int[_chunkRows])];
    }

    /// <summary>The mean data loss (class weights included) and the fraction classified correctly.</summary>
    public (double Loss, double Accuracy) Evaluate(DataSet<T> data)
    {
        int n = data.Count, chunks = (n + _chunkRows - 1) / _chunkRows;
        if (_chunkLoss.Length < chunks)
        {
            _chunkLoss = new double[chunks];
            _chunkCorrect = new int[chunks];
        }
        int parts = Math.Min(_workers.Length, chunks);
        var parameters = _score.Parameters;
        for (int w = 1; w < parts; w++)
        {
            var copy = _workers[w].Parameters;
            for (int k = 0; k < parameters.Count; k++)
                parameters[k].Value.Span.CopyTo(copy[k].Value.Span);
        }

        (_data, _chunks) = (data, chunks);
        try
        {
            KernelThreads.Run(this, parts);
        }
        finally
        {
            _data = null;
        }

        double loss = 0;
        long correct = 0;
        for (int c = 0; c < chunks; c++)
        {
            loss += _chunkLoss[c];
            correct += _chunkCorrect[c];
        }
        return (loss / n, (double)correct / n);
    }

    /// <summary>Part p evaluates chunks p, p + parts, p + 2·parts, ... on worker p.</summary>
    void IKernelParts.RunPart(int part, int parts)
    {
        for (int chunk = part; chunk < _chunks; chunk += parts)
            EvaluateChunk(part, _data!, chunk);
    }

    private void EvaluateChunk(int worker, DataSet<T> data, int chunk)
    {
        int start = chunk * _chunkRows, rows = Math.Min(_chunkRows, data.Count - start), c = _score.ClassCount;
        var scores = new MatrixSpan<T>(_scores[worker].AsSpan(0, rows * c), rows, c);
        var labels = data.Labels.Slice(start, rows);
        var predicted = _predicted[worker].AsSpan(0, rows);
        _workers[worker].Forward(data.Features.AsReadOnlySpan().SliceRows(start, rows), scores);
        // The loss is a mean over the chunk's rows; weighted back by them, the chunks sum to N times the mean.
        _chunkLoss[chunk] = double.CreateChecked(_loss.Compute<T>(scores, labels, default)) * rows;
        RowOps.RowArgMax<T>(scores, predicted);
        _chunkCorrect[chunk] = Metrics.Correct(predicted, labels);
    }
}
