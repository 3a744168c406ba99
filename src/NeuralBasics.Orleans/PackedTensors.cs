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
/// <param name="Precision">How the values are stored: as <c>T</c> itself, or 16 bits each (bfloat16 or IEEE half) to be widened back.</param>
[GenerateSerializer, Alias("NeuralBasics.PackedTensors"), Immutable]
public sealed record PackedTensors([property: Id(0)] int[] Lengths, [property: Id(1)] byte[] Bytes,
    [property: Id(2)] MessagePrecision Precision = MessagePrecision.Full)
{
    /// <summary>No tensors.</summary>
    public static PackedTensors Empty { get; } = new([], []);

    /// <summary>Packs <paramref name="tensors"/>.</summary>
    /// <summary>
    /// Packs <paramref name="tensors"/> at <paramref name="precision"/>: 16-bit values are rounded to
    /// nearest (even on ties) and widened back to <typeparamref name="T"/> when unpacked.
    /// </summary>
    /// <exception cref="ArgumentException">A value does not fit IEEE half (<see cref="MessagePrecision.Half"/>), or is not finite in a 16-bit message.</exception>
    public static PackedTensors Pack<T>(IReadOnlyList<ReadOnlyMemory<T>> tensors, MessagePrecision precision)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (precision == MessagePrecision.Full)
            return Pack(tensors);
        var bytes = new byte[checked(tensors.Sum(t => (long)t.Length) * 2)];
        var values = MemoryMarshal.Cast<byte, ushort>(bytes.AsSpan());
        int offset = 0;
        foreach (var tensor in tensors)
        {
            var span = tensor.Span;
            for (int i = 0; i < span.Length; i++)
            {
                float value = float.CreateTruncating(span[i]);
                if (!float.IsFinite(value))
                    throw new ArgumentException($"Value {i} of a tensor is {span[i]}; a 16-bit message carries finite values only.", nameof(tensors));
                values[offset + i] = precision == MessagePrecision.BFloat16 ? ToBFloat16(value) : ToHalf(value, i);
            }
            offset += span.Length;
        }
        return new PackedTensors([.. tensors.Select(t => t.Length)], bytes, precision);
    }

    /// <summary>The upper 16 bits of the float, rounded to nearest even on the lower 16.</summary>
    internal static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
    }

    private static ushort ToHalf(float value, int index)
    {
        var half = (Half)value;
        return Half.IsFinite(half) ? BitConverter.HalfToUInt16Bits(half)
            : throw new ArgumentException($"Value {index} of a tensor is {value}, beyond IEEE half's ±65,504; send it as BFloat16 or Full.", nameof(value));
    }

    private static float FromSixteen(ushort bits, MessagePrecision precision) =>
        precision == MessagePrecision.BFloat16 ? BitConverter.UInt32BitsToSingle((uint)bits << 16) : (float)BitConverter.UInt16BitsToHalf(bits);

    /// <summary>Packs <paramref name="tensors"/> as they are.</summary>
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

    /// <summary>
    /// The tensors as read-only memory: views of <see cref="Bytes"/> itself when they are stored as
    /// <typeparamref name="T"/> (no copy: for a grain that only reads a message's values, such as a
    /// push's gradients), widened copies when they are 16-bit.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths do not add up to the bytes.</exception>
    public ReadOnlyMemory<T>[] View<T>()
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Precision != MessagePrecision.Full)
            return [.. Unpack<T>().Select(t => (ReadOnlyMemory<T>)t)];
        _ = Elements<T>();   // checks the lengths against the bytes
        int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        var views = new ReadOnlyMemory<T>[Lengths.Length];
        int offset = 0;
        for (int k = 0; k < Lengths.Length; k++)
        {
            views[k] = new BytesAs<T>(Bytes, offset, Lengths[k]).Memory;
            offset += Lengths[k] * size;
        }
        return views;
    }

    /// <summary>Part of a byte array seen as elements of <typeparamref name="T"/>.</summary>
    private sealed class BytesAs<T>(byte[] bytes, int byteOffset, int length) : System.Buffers.MemoryManager<T>
        where T : unmanaged
    {
        public override Span<T> GetSpan() =>
            MemoryMarshal.Cast<byte, T>(bytes.AsSpan(byteOffset, length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>()));

        public override unsafe System.Buffers.MemoryHandle Pin(int elementIndex = 0)
        {
            var handle = GCHandle.Alloc(bytes, GCHandleType.Pinned);
            byte* start = (byte*)handle.AddrOfPinnedObject() + byteOffset + (long)elementIndex * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
            return new System.Buffers.MemoryHandle(start, handle);
        }

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
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
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long count = 0;
        foreach (int length in Lengths)
            count += length >= 0 ? length : throw new ArgumentException("A tensor length is negative.");
        int size = Precision == MessagePrecision.Full ? System.Runtime.CompilerServices.Unsafe.SizeOf<T>() : 2;
        if (count * size != Bytes.Length)
            throw new ArgumentException($"The tensors' lengths ({count} values) do not match the {Bytes.Length} bytes sent.");
        if (Precision == MessagePrecision.Full)
            return MemoryMarshal.Cast<byte, T>(Bytes);
        if (!Enum.IsDefined(Precision))
            throw new ArgumentException($"Unknown message precision {(int)Precision}.");
        var sixteen = MemoryMarshal.Cast<byte, ushort>(Bytes);
        var values = new T[sixteen.Length];
        for (int i = 0; i < values.Length; i++)
            values[i] = T.CreateTruncating(FromSixteen(sixteen[i], Precision));
        return values;
    }
}
