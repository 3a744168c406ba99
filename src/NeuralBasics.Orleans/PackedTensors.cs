using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;

namespace NeuralBasics.Orleans;

/// <summary>
/// Tensors as they cross the wire: every tensor's elements one after another as raw bytes, and
/// the tensors' lengths. Orleans copies a byte array as one block, where an array of floats is
/// encoded element by element (about 5x slower for the MLP's 814 KB).
/// </summary>
/// <param name="Lengths">Each tensor's element count.</param>
/// <param name="Bytes">The elements, tensor after tensor, in the machine's byte order (little-endian on every platform .NET runs on but a few).</param>
[GenerateSerializer, Alias("NeuralBasics.PackedTensors"), Immutable]
public sealed record PackedTensors([property: Id(0)] int[] Lengths, [property: Id(1)] byte[] Bytes)
{
    /// <summary>No tensors.</summary>
    public static PackedTensors Empty { get; } = new([], []);

    /// <summary>Packs <paramref name="tensors"/>.</summary>
    public static PackedTensors Pack<T>(IReadOnlyList<ReadOnlyMemory<T>> tensors)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(tensors);
        int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        var bytes = new byte[checked(tensors.Sum(t => (long)t.Length) * size)];
        int offset = 0;
        foreach (var tensor in tensors)
        {
            var source = MemoryMarshal.AsBytes(tensor.Span);
            source.CopyTo(bytes.AsSpan(offset));
            offset += source.Length;
        }
        return new PackedTensors([.. tensors.Select(t => t.Length)], bytes);
    }

    /// <summary>Packs <paramref name="tensors"/>.</summary>
    public static PackedTensors Pack<T>(IReadOnlyList<Memory<T>> tensors)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Pack<T>([.. tensors.Select(t => (ReadOnlyMemory<T>)t)]);

    /// <summary>Unpacks into new arrays, one per tensor.</summary>
    /// <exception cref="ArgumentException">The lengths do not add up to the bytes.</exception>
    public T[][] Unpack<T>()
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var elements = Elements<T>();
        var result = new T[Lengths.Length][];
        int offset = 0;
        for (int k = 0; k < Lengths.Length; k++)
        {
            result[k] = elements.Slice(offset, Lengths[k]).ToArray();
            offset += Lengths[k];
        }
        return result;
    }

    /// <summary>Copies the tensors into <paramref name="destination"/>, whose buffers must have the same lengths.</summary>
    /// <exception cref="InvalidOperationException">The tensors do not fit the buffers.</exception>
    public void CopyTo<T>(IReadOnlyList<Memory<T>> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.Count != Lengths.Length)
            throw new InvalidOperationException($"{Lengths.Length} tensors arrived for {destination.Count} buffers.");
        var elements = Elements<T>();
        int offset = 0;
        for (int k = 0; k < Lengths.Length; k++)
        {
            if (destination[k].Length != Lengths[k])
                throw new InvalidOperationException($"Tensor {k} arrived with {Lengths[k]} values for a buffer of {destination[k].Length}.");
            elements.Slice(offset, Lengths[k]).CopyTo(destination[k].Span);
            offset += Lengths[k];
        }
    }

    /// <summary>
    /// Throws unless these tensors have the element counts <paramref name="held"/> of what
    /// <paramref name="owner"/> already holds: a second model started under the same run name must
    /// fail at once, not at its first fetch.
    /// </summary>
    /// <exception cref="InvalidOperationException">The counts differ.</exception>
    internal void RequireLengths(IEnumerable<int> held, string owner)
    {
        int[] expected = [.. held];
        if (!Lengths.AsSpan().SequenceEqual(expected))
            throw new InvalidOperationException(
                $"{owner} already holds {Describe(expected)}, but a worker started it with {Describe(Lengths)}: another model is " +
                "training under this run's name. Choose another run name, or clear the run's grain state.");

        static string Describe(int[] lengths) =>
            $"{lengths.Length} tensor{(lengths.Length == 1 ? "" : "s")} of {string.Join(", ", lengths.Select(n => n.ToString("N0", CultureInfo.InvariantCulture)))} values";
    }

    private ReadOnlySpan<T> Elements<T>()
        where T : unmanaged
    {
        long count = 0;
        foreach (int length in Lengths)
            count += length >= 0 ? length : throw new ArgumentException("A tensor length is negative.");
        if (count * System.Runtime.CompilerServices.Unsafe.SizeOf<T>() != Bytes.Length)
            throw new ArgumentException($"The tensors' lengths ({count} values) do not match the {Bytes.Length} bytes sent.");
        return MemoryMarshal.Cast<byte, T>(Bytes);
    }
}
