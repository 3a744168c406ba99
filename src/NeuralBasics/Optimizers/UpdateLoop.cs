using System.Numerics;
using System.Runtime.CompilerServices;

namespace NeuralBasics.Optimizers;

/// <summary>
/// One element-wise update rule: the change to one weight <c>w</c> given its gradient <c>g</c> and
/// up to two state values <c>a</c>, <c>b</c> (velocity, caches, moments). A rule writes it twice,
/// once for a scalar and once for a <see cref="Vector{T}"/> of them, holding its step's constants
/// as fields; <see cref="UpdateLoop"/> runs it over the spans. Operators hold no loops.
/// </summary>
internal interface IUpdateOperator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    void Invoke(ref T w, T g, ref T a, ref T b);

    void Invoke(ref Vector<T> w, Vector<T> g, ref Vector<T> a, ref Vector<T> b);
}

/// <summary>Runs an <see cref="IUpdateOperator{T}"/> over whole tensors: vectors first, then a scalar tail.</summary>
internal static class UpdateLoop
{
    /// <summary>
    /// Applies <paramref name="op"/> to every element. <paramref name="a"/> and <paramref name="b"/>
    /// are the state arrays (empty when the rule keeps fewer; the operator then ignores them).
    /// Lengths have been checked by <see cref="UpdateRule.Apply{T}"/>.
    /// </summary>
    public static void Run<T, TOp>(Span<T> w, ReadOnlySpan<T> g, Span<T> a, Span<T> b, TOp op)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, IUpdateOperator<T>
    {
        int n = w.Length;
        bool hasA = !a.IsEmpty, hasB = !b.IsEmpty;
        ref T wRef = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(w);
        ref T gRef = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(g);
        ref T aRef = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(a);
        ref T bRef = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(b);
        T dummyA = T.Zero, dummyB = T.Zero;
        Vector<T> dummyVa = Vector<T>.Zero, dummyVb = Vector<T>.Zero;

        int i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            int width = Vector<T>.Count;
            for (; i + width <= n; i += width)
            {
                ref Vector<T> wv = ref Unsafe.As<T, Vector<T>>(ref Unsafe.Add(ref wRef, i));
                var gv = Unsafe.ReadUnaligned<Vector<T>>(ref Unsafe.As<T, byte>(ref Unsafe.Add(ref gRef, i)));
                ref Vector<T> av = ref hasA ? ref Unsafe.As<T, Vector<T>>(ref Unsafe.Add(ref aRef, i)) : ref dummyVa;
                ref Vector<T> bv = ref hasB ? ref Unsafe.As<T, Vector<T>>(ref Unsafe.Add(ref bRef, i)) : ref dummyVb;
                op.Invoke(ref wv, gv, ref av, ref bv);
            }
        }
        for (; i < n; i++)
        {
            op.Invoke(
                ref Unsafe.Add(ref wRef, i),
                Unsafe.Add(ref gRef, i),
                ref hasA ? ref Unsafe.Add(ref aRef, i) : ref dummyA,
                ref hasB ? ref Unsafe.Add(ref bRef, i) : ref dummyB);
        }
    }
}
