using System.Numerics;
using NeuralBasics.Data;

namespace NeuralBasics.Training.Distributed;

/// <summary>
/// A worker's mini-batches over its rows of a data set: the rows are reshuffled every epoch with
/// the worker's own seed (<c>seed·7919 + worker</c>), and each batch is gathered into buffers the
/// batches share.
/// </summary>
internal sealed class ShardBatches<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly DataSet<T> _data;
    private readonly int[] _rows;
    private readonly Random _random;
    private readonly bool _shuffle;
    private readonly Matrix<T> _x;
    private readonly int[] _y;

    public ShardBatches(DataSet<T> data, ReadOnlySpan<int> rows, int batchSize, int seed, int worker, bool shuffle = true)
    {
        _data = data;
        _rows = rows.ToArray();
        foreach (int row in _rows)
            if ((uint)row >= (uint)data.Count)
                throw new ArgumentOutOfRangeException(nameof(rows), row, $"Row {row} is outside the data's {data.Count} rows.");
        _random = new Random(unchecked(seed * 7919 + worker));
        _shuffle = shuffle;
        BatchSize = Math.Max(1, Math.Min(batchSize, _rows.Length));
        _x = new Matrix<T>(BatchSize, data.FeatureCount);
        _y = new int[BatchSize];
    }

    public int BatchSize { get; }

    public int RowCount => _rows.Length;

    /// <summary>Starts an epoch: reshuffles the rows.</summary>
    public void StartEpoch()
    {
        if (_shuffle)
            _random.Shuffle(_rows);
    }

    /// <summary>Gathers the batch starting at <paramref name="start"/> of this epoch's order; returns its size.</summary>
    public int Gather(int start, out Matrix<T> x, out ArraySegment<int> y)
    {
        int size = Math.Clamp(_rows.Length - start, 0, BatchSize);
        var rows = _rows.AsSpan(start, size);
        _data.Gather(rows, _x.AsSpan(), _y);
        x = size == BatchSize ? _x : _x.SliceRows(0, size);
        y = new ArraySegment<int>(_y, 0, size);
        return size;
    }
}
