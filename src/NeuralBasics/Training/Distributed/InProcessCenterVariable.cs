using System.Numerics;

namespace NeuralBasics.Training.Distributed;

/// <summary>The center variable in this process's memory, guarded by one lock.</summary>
public sealed class InProcessCenterVariable<T> : ICenterVariable<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[][] _center;
    private readonly Lock _lock = new();

    /// <summary>Starts the center at <paramref name="initial"/> (copied), one array per parameter tensor.</summary>
    public InProcessCenterVariable(IEnumerable<ReadOnlyMemory<T>> initial)
    {
        ArgumentNullException.ThrowIfNull(initial);
        _center = [.. initial.Select(m => m.ToArray())];
    }

    /// <inheritdoc/>
    public void Exchange(int tensor, Span<T> local, T alpha)
    {
        var center = _center[tensor];
        if (local.Length != center.Length)
            throw new ArgumentException($"Tensor {tensor} has {center.Length} values at the center but {local.Length} locally.", nameof(local));
        lock (_lock)
        {
            for (int i = 0; i < local.Length; i++)
            {
                // Flushed: as the two converge the difference would otherwise sink into the slow subnormal range.
                T difference = Kernels.Subnormal.Flush(local[i] - center[i]);
                local[i] -= alpha * difference;
                center[i] += alpha * difference;
            }
        }
    }

    /// <inheritdoc/>
    public void Read(IReadOnlyList<Memory<T>> destination)
    {
        lock (_lock)
        {
            for (int k = 0; k < _center.Length; k++)
                _center[k].CopyTo(destination[k].Span);
        }
    }
}
