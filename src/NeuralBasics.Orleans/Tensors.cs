namespace NeuralBasics.Orleans;

/// <summary>Copies tensors that came over the wire into a worker's buffers, checking they fit.</summary>
internal static class Tensors
{
    public static void CopyInto<T>(T[][] source, IReadOnlyList<Memory<T>> destination)
    {
        if (source.Length != destination.Count)
            throw new InvalidOperationException($"The grain answered with {source.Length} tensors, the worker has {destination.Count}.");
        for (int k = 0; k < source.Length; k++)
        {
            if (source[k].Length != destination[k].Length)
                throw new InvalidOperationException($"The grain's tensor {k} has {source[k].Length} values, the worker's {destination[k].Length}.");
            source[k].CopyTo(destination[k].Span);
        }
    }
}
