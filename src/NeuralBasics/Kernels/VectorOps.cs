using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralBasics.Kernels;

/// <summary>
/// The handful of vector operations the GEMM micro-kernel needs, so one kernel body serves
/// <see cref="Vector512{T}"/>, <see cref="Vector256{T}"/> and <see cref="Vector128{T}"/>.
/// Implementations are empty structs: the JIT specializes the generic kernel per struct and
/// inlines every call, so no interface dispatch survives into the machine code.
/// </summary>
internal unsafe interface IVectorOps<TVec, T>
    where TVec : unmanaged
    where T : unmanaged
{
    static abstract int Count { get; }
    static abstract TVec Zero { get; }
    static abstract TVec Load(T* source);
    static abstract void Store(TVec value, T* destination);
    static abstract TVec Broadcast(T* source);
    static abstract TVec Add(TVec left, TVec right);
    /// <summary><c>a * b + c</c>, fused.</summary>
    static abstract TVec MultiplyAdd(TVec a, TVec b, TVec c);

    /// <summary>The larger of each pair of lanes, as <see cref="Vector.Max{T}(Vector{T}, Vector{T})"/> (a NaN wins, +0 above −0).</summary>
    static abstract TVec Max(TVec left, TVec right);

    /// <summary>
    /// The larger of each pair of lanes in the processor's own instruction: the same as <see cref="Max"/>
    /// where neither lane is a NaN and they are not two zeros, otherwise either (x64's <c>maxps</c> gives
    /// the second operand, Arm64's <c>fmax</c> as <see cref="Max"/>). One instruction where <see cref="Max"/>
    /// takes three on x64; callers rule out the NaNs (<see cref="HasNaN"/>) and the signed zeros themselves.
    /// </summary>
    static abstract TVec MaxNative(TVec left, TVec right);

    /// <summary>
    /// Whether any lane of the four may be a NaN: true where one is (a NaN goes through the sum
    /// <c>a + b + (c + d)</c> the test reads), and rarely where none is (where the sum overflows both ways, ∞ − ∞).
    /// </summary>
    static abstract bool HasNaN(TVec a, TVec b, TVec c, TVec d);

    /// <summary>All bits set in the lanes where <paramref name="left"/> equals <paramref name="right"/>, none elsewhere.</summary>
    static abstract TVec Equal(TVec left, TVec right);

    /// <summary>All bits set in the lanes above zero (not a NaN), none elsewhere.</summary>
    static abstract TVec Positive(TVec value);

    /// <summary><c>left &amp; ~right</c>, bitwise.</summary>
    static abstract TVec AndNot(TVec left, TVec right);

    /// <summary>Each lane from <paramref name="yes"/> where <paramref name="mask"/>'s lane has its bits set, else from <paramref name="no"/>.</summary>
    static abstract TVec Select(TVec mask, TVec yes, TVec no);

    /// <summary>One bit per lane of a mask (lane i at bit i), as <c>ExtractMostSignificantBits</c>.</summary>
    static abstract ulong Bits(TVec mask);

    /// <summary>The mask whose lane i has all bits set where bit i of <paramref name="bits"/> is set: the inverse of <see cref="Bits"/>.</summary>
    static abstract TVec FromBits(ulong bits);
}

/// <summary>Whether the processor fuses multiply-add for 128- and 256-bit vectors.</summary>
internal static class HardwareFma
{
    /// <remarks>
    /// One expression (<c>|</c>, not <c>||</c>), and <c>MultiplyAdd</c> below one return each: a
    /// short-circuit or a second return gives the inlined body a branch and a result temporary, and
    /// RyuJIT then no longer sees that an FMA's result goes back into its own accumulator. With
    /// <c>||</c>, the AVX2 micro-kernel wrote every second FMA into the broadcast register and moved
    /// it back (<c>vfmadd213ps</c> + <c>vmovaps</c>, six moves per twelve FMAs), and the 128-bit one
    /// kept all twelve accumulators on the stack (a load and a store per multiply-add).
    /// </remarks>
    public static bool IsSupported => System.Runtime.Intrinsics.X86.Fma.IsSupported | System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported;
}

internal readonly unsafe struct Vector512Ops<T> : IVectorOps<Vector512<T>, T>
    where T : unmanaged, INumber<T>
{
    public static int Count => Vector512<T>.Count;
    public static Vector512<T> Zero => Vector512<T>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Load(T* source) => Vector512.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<T> value, T* destination) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Broadcast(T* source) => Vector512.Create(*source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Add(Vector512<T> left, Vector512<T> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> MultiplyAdd(Vector512<T> a, Vector512<T> b, Vector512<T> c)
        => typeof(T) == typeof(float) ? Vector512.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>()
            : typeof(T) == typeof(double) ? Vector512.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>()
            : a * b + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Max(Vector512<T> left, Vector512<T> right) => Vector512.Max(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> MaxNative(Vector512<T> left, Vector512<T> right) => Vector512.MaxNative(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool HasNaN(Vector512<T> a, Vector512<T> b, Vector512<T> c, Vector512<T> d) => Vector512.IsNaN(a + b + (c + d)) != Vector512<T>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Equal(Vector512<T> left, Vector512<T> right) => Vector512.Equals(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Positive(Vector512<T> value) => Vector512.GreaterThan(value, Vector512<T>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> AndNot(Vector512<T> left, Vector512<T> right) => Vector512.AndNot(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Select(Vector512<T> mask, Vector512<T> yes, Vector512<T> no) => Vector512.ConditionalSelect(mask, yes, no);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Bits(Vector512<T> mask) => mask.ExtractMostSignificantBits();

    /// <remarks>
    /// The lane bits are a constant in the code, not a static field: a method compiled fully
    /// optimized at its first call (<c>AggressiveOptimization</c>) reads a static through a helper
    /// call, which in a loop forces every vector register out to the stack around it.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> FromBits(ulong bits)
    {
        if (Unsafe.SizeOf<T>() == 8)
        {
            var lanes = Vector512.Create(1L, 2, 4, 8, 16, 32, 64, 128);
            return Vector512.Equals(Vector512.Create((long)bits) & lanes, lanes).As<long, T>();
        }
        var lanes32 = Vector512.Create(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768);
        return Vector512.Equals(Vector512.Create((int)bits) & lanes32, lanes32).As<int, T>();
    }
}

internal readonly unsafe struct Vector256Ops<T> : IVectorOps<Vector256<T>, T>
    where T : unmanaged, INumber<T>
{
    public static int Count => Vector256<T>.Count;
    public static Vector256<T> Zero => Vector256<T>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Load(T* source) => Vector256.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<T> value, T* destination) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Broadcast(T* source) => Vector256.Create(*source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Add(Vector256<T> left, Vector256<T> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> MultiplyAdd(Vector256<T> a, Vector256<T> b, Vector256<T> c)
        => !HardwareFma.IsSupported ? a * b + c
            : typeof(T) == typeof(float) ? Vector256.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>()
            : typeof(T) == typeof(double) ? Vector256.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>()
            : a * b + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Max(Vector256<T> left, Vector256<T> right) => Vector256.Max(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> MaxNative(Vector256<T> left, Vector256<T> right) => Vector256.MaxNative(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool HasNaN(Vector256<T> a, Vector256<T> b, Vector256<T> c, Vector256<T> d) => Vector256.IsNaN(a + b + (c + d)) != Vector256<T>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Equal(Vector256<T> left, Vector256<T> right) => Vector256.Equals(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Positive(Vector256<T> value) => Vector256.GreaterThan(value, Vector256<T>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> AndNot(Vector256<T> left, Vector256<T> right) => Vector256.AndNot(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Select(Vector256<T> mask, Vector256<T> yes, Vector256<T> no) => Vector256.ConditionalSelect(mask, yes, no);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Bits(Vector256<T> mask) => mask.ExtractMostSignificantBits();

    /// <remarks>
    /// The lane bits are a constant in the code, not a static field: a method compiled fully
    /// optimized at its first call (<c>AggressiveOptimization</c>) reads a static through a helper
    /// call, which in a loop forces every vector register out to the stack around it.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> FromBits(ulong bits)
    {
        if (Unsafe.SizeOf<T>() == 8)
        {
            var lanes = Vector256.Create(1L, 2, 4, 8);
            return Vector256.Equals(Vector256.Create((long)bits) & lanes, lanes).As<long, T>();
        }
        var lanes32 = Vector256.Create(1, 2, 4, 8, 16, 32, 64, 128);
        return Vector256.Equals(Vector256.Create((int)bits) & lanes32, lanes32).As<int, T>();
    }
}

internal readonly unsafe struct Vector128Ops<T> : IVectorOps<Vector128<T>, T>
    where T : unmanaged, INumber<T>
{
    public static int Count => Vector128<T>.Count;
    public static Vector128<T> Zero => Vector128<T>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Load(T* source) => Vector128.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector128<T> value, T* destination) => value.Store(destination);

    /// <remarks>
    /// With AVX (x64 without AVX2 still has it), a float is broadcast from memory in one
    /// <c>vbroadcastss</c> instead of <c>vmovss</c> + <c>vpermilps</c>, whose shuffle competes with
    /// the multiplies and adds for the FP pipes: 512³ on one AMD EPYC Zen 5 core with AVX2 disabled
    /// went from 33 to 39 GFLOP/s (peak 49.5).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Broadcast(T* source)
        => typeof(T) == typeof(float) && System.Runtime.Intrinsics.X86.Avx.IsSupported
            ? System.Runtime.Intrinsics.X86.Avx.BroadcastScalarToVector128((float*)source).As<float, T>()
            : Vector128.Create(*source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Add(Vector128<T> left, Vector128<T> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> MultiplyAdd(Vector128<T> a, Vector128<T> b, Vector128<T> c)
        => !HardwareFma.IsSupported ? a * b + c
            : typeof(T) == typeof(float) ? Vector128.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>()
            : typeof(T) == typeof(double) ? Vector128.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>()
            : a * b + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Max(Vector128<T> left, Vector128<T> right) => Vector128.Max(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> MaxNative(Vector128<T> left, Vector128<T> right) => Vector128.MaxNative(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool HasNaN(Vector128<T> a, Vector128<T> b, Vector128<T> c, Vector128<T> d) => Vector128.IsNaN(a + b + (c + d)) != Vector128<T>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Equal(Vector128<T> left, Vector128<T> right) => Vector128.Equals(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Positive(Vector128<T> value) => Vector128.GreaterThan(value, Vector128<T>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> AndNot(Vector128<T> left, Vector128<T> right) => Vector128.AndNot(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Select(Vector128<T> mask, Vector128<T> yes, Vector128<T> no) => Vector128.ConditionalSelect(mask, yes, no);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Bits(Vector128<T> mask) => mask.ExtractMostSignificantBits();

    /// <remarks>
    /// The lane bits are a constant in the code, not a static field: a method compiled fully
    /// optimized at its first call (<c>AggressiveOptimization</c>) reads a static through a helper
    /// call, which in a loop forces every vector register out to the stack around it.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> FromBits(ulong bits)
    {
        if (Unsafe.SizeOf<T>() == 8)
        {
            var lanes = Vector128.Create(1L, 2);
            return Vector128.Equals(Vector128.Create((long)bits) & lanes, lanes).As<long, T>();
        }
        var lanes32 = Vector128.Create(1, 2, 4, 8);
        return Vector128.Equals(Vector128.Create((int)bits) & lanes32, lanes32).As<int, T>();
    }
}
