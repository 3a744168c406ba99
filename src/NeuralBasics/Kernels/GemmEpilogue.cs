using System.Numerics;
using System.Runtime.CompilerServices;

namespace NeuralBasics.Kernels;

/// <summary>The activation a product can apply while it writes C (<see cref="GemmArgs{T}.Activation"/>).</summary>
internal enum FusedActivation : byte
{
    /// <summary>None: C only (plus the bias, when given).</summary>
    None,
    /// <summary><c>max(0, z)</c>.</summary>
    Relu,
    /// <summary>
    /// ReLU's backward pass on the product: <c>Activated = Mask &gt; 0 ? C : 0</c> (subnormals flushed,
    /// as <see cref="Activations.Relu"/>'s backward does), with <see cref="GemmArgs{T}.Mask"/> the
    /// ReLU's input. No bias.
    /// </summary>
    ReluGradient,
}

/// <summary>
/// The epilogue of the blocked GEMM (<see cref="GemmDriver{T}"/>): the bias and the fused activation
/// applied to each block of C as it is finished, while it is still in L1.
/// </summary>
internal static unsafe class GemmEpilogue<T>
    where T : unmanaged, INumber<T>
{
    /// <summary>
    /// The epilogue on the finished block of C at (row0, col0): adds the bias row, then writes the
    /// activation of the result into <see cref="GemmArgs{T}.Activated"/>. Nothing without a bias.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Finish(in GemmArgs<T> args, int row0, int rows, int col0, int cols)
    {
        if (args.Bias == null && args.Activation == FusedActivation.None)
            return;
        FinishCore(args, row0, rows, col0, cols);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void FinishCore(in GemmArgs<T> args, int row0, int rows, int col0, int cols)
    {
        if (args.Activation == FusedActivation.ReluGradient)
        {
            // Row by row through the activation's own element-wise loop: the bits of its backward pass.
            for (int r = 0; r < rows; r++)
            {
                long offset = (long)(row0 + r) * args.Ldc + col0;
                if (typeof(T) == typeof(float))
                    ReluGradientRow((float*)args.Mask + offset, (float*)args.C + offset, (float*)args.Activated + offset, cols);
                else if (typeof(T) == typeof(double))
                    ReluGradientRow((double*)args.Mask + offset, (double*)args.C + offset, (double*)args.Activated + offset, cols);
                else
                    throw new NotSupportedException($"The fused ReLU gradient needs float or double, not {typeof(T).Name} (Gemm.MultiplyTransposeBReluGradient runs two passes for it).");
            }
            return;
        }
        T* bias = args.Bias + col0;
        bool relu = args.Activation == FusedActivation.Relu;
        // With Activated = C the ReLU's store lands over Z's, in place.
        for (int r = 0; r < rows; r++)
        {
            T* c = args.C + (long)(row0 + r) * args.Ldc + col0;
            T* a = relu ? args.Activated + (long)(row0 + r) * args.Ldc + col0 : null;
            int j = 0;
            if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
            {
                for (; j + Vector<T>.Count <= cols; j += Vector<T>.Count)
                {
                    var z = Vector.Load(c + j) + Vector.Load(bias + j);
                    z.Store(c + j);
                    if (relu)
                        Vector.Max(z, Vector<T>.Zero).Store(a + j);
                }
            }
            for (; j < cols; j++)
            {
                T z = c[j] + bias[j];
                c[j] = z;
                if (relu)
                    a[j] = T.Max(z, T.Zero);
            }
        }
    }

    private static void ReluGradientRow<TF>(TF* x, TF* dy, TF* dx, int count)
        where TF : unmanaged, IFloatingPointIeee754<TF>
        => ElementwiseLoop.Run(new ReadOnlySpan<TF>(x, count), new ReadOnlySpan<TF>(dy, count), new Span<TF>(dx, count),
            default(ReluDerivative<TF>));

}
