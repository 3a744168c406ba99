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
}
