using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NeuralBasics.Kernels;

/// <summary>
/// An element-wise operation of two inputs that <see cref="System.Numerics.Tensors.TensorPrimitives"/>
/// does not have as one call (a masked copy, a derivative written in terms of the output), written
/// once for a scalar and once for a <see cref="Vector{T}"/>. Operators hold no loops.
/// </summary>
internal interface IBinaryOperator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    T Invoke(T a, T b);

    Vector<T> Invoke(Vector<T> a, Vector<T> b);
}

/// <summary>Runs an <see cref="IBinaryOperator{T}"/> over spans: whole vectors, then a scalar tail.</summary>
internal static class ElementwiseLoop
{
    /// <summary>
    /// <c>destination[i] = op(a[i], b[i])</c>; all three the same length (checked). Subnormal
    /// results are flushed to zero (<see cref="Subnormal"/>): these are gradients and activations
    /// that the next matrix product would otherwise multiply on the processor's slow path.
    /// </summary>
    public static void Run<T, TOp>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> destination, TOp op)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, IBinaryOperator<T>
    {
        if (a.Length != b.Length || a.Length != destination.Length)
            throw new ArgumentException(
                $"Element-wise inputs and destination must have one length; got {a.Length}, {b.Length} and {destination.Length}.", nameof(destination));
        ref T aRef = ref MemoryMarshal.GetReference(a);
        ref T bRef = ref MemoryMarshal.GetReference(b);
        ref T dRef = ref MemoryMarshal.GetReference(destination);
        int i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            for (; i + Vector<T>.Count <= a.Length; i += Vector<T>.Count)
            {
                var va = Vector.LoadUnsafe(ref aRef, (nuint)i);
                var vb = Vector.LoadUnsafe(ref bRef, (nuint)i);
                Subnormal.Flush(op.Invoke(va, vb)).StoreUnsafe(ref dRef, (nuint)i);
            }
        }
        for (; i < a.Length; i++)
            Unsafe.Add(ref dRef, i) = Subnormal.Flush(op.Invoke(Unsafe.Add(ref aRef, i), Unsafe.Add(ref bRef, i)));
    }
}

/// <summary>
/// ReLU's derivative applied to the upstream gradient: <c>dx = x &gt; 0 ? dy : 0</c> (the kink gets 0).
/// Used by <see cref="Activations.Relu"/>'s backward pass and by the product fused with it
/// (<see cref="FusedActivation.ReluGradient"/>), so both give the same bits.
/// </summary>
internal readonly struct ReluDerivative<T> : IBinaryOperator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x, T dy) => x > T.Zero ? dy : T.Zero;

    public Vector<T> Invoke(Vector<T> x, Vector<T> dy) =>
        Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<T>.Zero), dy, Vector<T>.Zero);
}
