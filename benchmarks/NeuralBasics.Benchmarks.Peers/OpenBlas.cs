using System.Runtime.InteropServices;

namespace NeuralBasics.Benchmarks.Peers;

/// <summary>
/// OpenBLAS's single-precision GEMM through its C interface (<c>cblas_sgemm</c>), when the system
/// has the library (Debian: <c>apt-get install libopenblas0-pthread</c>); the benchmark skips it
/// otherwise. <c>OPENBLAS_CORETYPE=Haswell</c> holds it to AVX2 on an AVX-512 machine, as
/// <c>DOTNET_EnableAVX512=0</c> holds .NET.
/// </summary>
internal static unsafe partial class OpenBlas
{
    private const string Library = "libopenblas.so.0";
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;

    /// <summary>True when <c>libopenblas.so.0</c> loads.</summary>
    public static bool IsAvailable { get; } = NativeLibrary.TryLoad(Library, out _);

    [LibraryImport(Library)]
    private static partial void cblas_sgemm(int order, int transA, int transB, int m, int n, int k,
        float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc);

    [LibraryImport(Library)]
    private static partial void openblas_set_num_threads(int threads);

    [LibraryImport(Library)]
    private static partial nint openblas_get_config();

    [LibraryImport(Library)]
    private static partial nint openblas_get_corename();

    public static void SetThreads(int threads) => openblas_set_num_threads(threads);

    /// <summary>"OpenBLAS 0.3.21 ... (core Haswell)".</summary>
    public static string Describe() =>
        $"{Marshal.PtrToStringUTF8(openblas_get_config())} (core {Marshal.PtrToStringUTF8(openblas_get_corename())})";

    /// <summary>C = op(A)·B: A is m x k, or k x m when <paramref name="transA"/>; B is k x n.</summary>
    public static void Multiply(Matrix<float> a, bool transA, Matrix<float> b, Matrix<float> c)
    {
        int m = c.Rows, n = c.Columns, k = transA ? a.Rows : a.Columns;
        fixed (float* pa = a.Span, pb = b.Span, pc = c.Span)
            cblas_sgemm(RowMajor, transA ? Trans : NoTrans, NoTrans, m, n, k, 1f, pa, a.Columns, pb, b.Columns, 0f, pc, c.Columns);
    }
}
