using System.Text.RegularExpressions;
using NeuralBasics.Kernels;

namespace NeuralBasics.Tests.Kernels;

/// <summary>
/// The machine code of every GEMM micro-kernel and narrow kernel, as the JIT writes it at each x64
/// vector width this processor runs: the hot loop must be loads, broadcasts and multiply-adds (or a
/// multiply and an add without FMA), with integer address arithmetic, no stack traffic and no vector
/// register moves. Two JIT quirks cost half the speed before: accumulators spilled to the stack, and
/// with a short-circuit <c>||</c> in the FMA check, every second AVX2 FMA written into the broadcast
/// register and moved back (<c>vfmadd213ps</c> + <c>vmovaps</c>); the 128-bit kernel then kept all
/// its accumulators on the stack.
/// </summary>
public sealed partial class KernelCodeTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("neuralbasics-jit-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Runs every kernel instantiation the product shapes reach, float and double, on one thread.</summary>
    internal static void RunEveryKernel()
    {
        Run<float>();
        Run<double>();

        static void Run<T>()
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            // Row-major A in place, with an 8-row last tile (128 = 10 x 12 + 8); packed A (rows 2 KiB
            // apart); stored Aᵀ in place; a 4-row last tile; narrow outputs of 1, 2 and 3 vectors; one
            // row (a served prediction), wide and narrow; deep products of few rows (a convolution's
            // weight gradient), which take the narrow kernel at two and three vectors on every width.
            foreach (var (m, n, k, transA) in new[]
                     {
                         (128, 256, 784, false), (96, 96, 512, false), (124, 96, 300, true), (124, 96, 300, false),
                         (131, 7, 200, false), (131, 10, 200, false), (131, 20, 200, false), (131, 10, 200, true),
                         (1, 256, 784, false), (1, 10, 256, false), (9, 32, 4200, true), (9, 40, 4200, true),
                     })
            {
                var a = TestData.Uniform<T>(transA ? k : m, transA ? m : k, 1);
                var b = TestData.Uniform<T>(k, n, 2);
                var c = new Matrix<T>(m, n);
                for (int i = 0; i < 3; i++)
                {
                    if (transA)
                        Gemm.MultiplyTransposeA(a, b, c, maxDegreeOfParallelism: 1);
                    else
                        Gemm.Multiply(a, b, c, maxDegreeOfParallelism: 1);
                }
            }
            // A gathered Aᵀ (a convolution's weight gradient read from its padded images): 24 rows in runs of 24 consecutive columns.
            {
                int[] columns = [.. Enumerable.Range(0, 48).Select(i => i + i / 24 * 8)];
                int[] offsets = [.. Enumerable.Range(0, 300).Select(p => p * 60)];
                var source = TestData.Uniform<T>(1, 300 * 60 + 64, 3).Span.ToArray();
                var b = TestData.Uniform<T>(300, 96, 2);
                var c = new Matrix<T>(48, 96);
                for (int i = 0; i < 3; i++)
                    Gemm.MultiplyTransposeAGathered<T>(source, offsets, columns, b.AsReadOnlySpan(), c.AsSpan(), maxDegreeOfParallelism: 1);
            }
            // The convolution → ReLU → pooling pass: the one-pass kernel (9 and 27 taps, two vectors
            // of filters and one; a weight gradient deep enough for its slices) and the GEMM path (72 taps).
            foreach (var (channels, vectors) in new[] { (1, 2), (3, 1), (8, 2) })
            {
                var net = new NeuralBasics.Layers.NetworkBuilder<T>(new NeuralBasics.Layers.ImageShape(channels, 8, 8), seed: 1)
                    .Conv2D(vectors * ConvReluPool<T>.Lanes, 3, padding: 1, new NeuralBasics.Activations.Relu()).MaxPool2D(2).Dense(3).Build();
                var x = TestData.Uniform<T>(80, net.InputCount, 1);
                var scores = new Matrix<T>(80, 3);
                for (int i = 0; i < 3; i++)
                {
                    net.Forward(x, scores);
                    net.Backward(x, scores, default);
                }
            }
        }
    }

    [Fact]
    public void KernelLoops_AreLoadsBroadcastsAndMultiplyAdds()
    {
        int widths = 0;
        foreach (var (width, variable) in TestProcess.X64Widths())
        {
            // The legacy SSE encoding has two-operand instructions: a register copy before each
            // multiply is the encoding's, not a quirk. Its bits are checked by the golden runs.
            if (width == "128-bit SSE")
                continue;
            string listing = Path.Combine(_folder, $"{widths++}.asm");
            var environment = new Dictionary<string, string>
            {
                ["DOTNET_JitDisasm"] = "Kernel Block Taps ForwardImages",
                ["DOTNET_JitStdOutFile"] = listing,
                ["DOTNET_TieredCompilation"] = "0",
            };
            if (variable is not null)
                environment[variable] = "0";
            TestProcess.Run("kernels", environment);
            CheckListing(width, File.ReadAllText(listing));
        }
    }

    /// <summary>
    /// Under tiered compilation (the default) no kernel method doing vector arithmetic runs as
    /// unoptimized tier-0 code: each is inlined into, or is itself, a method compiled fully
    /// optimized at its first call. Tier-0 code makes every vector load and multiply-add a call; the
    /// narrow kernel's block ran so until promoted, and a one-row prediction took twice its warm
    /// time for its first few hundred calls (issue 26).
    /// </summary>
    [Fact]
    public void KernelsWithVectorLoops_NeverRunUnoptimized()
    {
        string summary = Path.Combine(_folder, "summary.txt");
        TestProcess.Run("kernels", new Dictionary<string, string> { ["DOTNET_JitDisasmSummary"] = "1", ["DOTNET_JitStdOutFile"] = summary });
        string[] compiled = File.ReadAllLines(summary);
        // A kernel method instantiated over a vector-operations type, e.g. Block[float,Vector512`1[float],Vector512Ops`1[float],Narrow1x1].
        var kernels = compiled.Where(line => VectorKernel().IsMatch(line)).ToArray();
        Assert.Contains(kernels, line => line.Contains("GemmNarrowKernel:Block[", StringComparison.Ordinal));
        Assert.Contains(kernels, line => line.Contains("GemmMicroKernel:Kernel[", StringComparison.Ordinal));
        Assert.Contains(kernels, line => line.Contains("ConvReluPool`1[float]:Taps[", StringComparison.Ordinal));
        string[] unoptimized = [.. kernels.Where(line => line.Contains("Tier0", StringComparison.Ordinal))];
        Assert.True(unoptimized.Length == 0, "Kernel methods compiled unoptimized:\n" + string.Join('\n', unoptimized));
    }

    private static void CheckListing(string width, string text)
    {
        int checkedMethods = 0;
        int convolutionMethods = 0;
        foreach (string method in text.Split("; Assembly listing for method ").Skip(1))
        {
            string name = method[..method.IndexOf('\n')];
            if (name.Contains("ConvReluPool", StringComparison.Ordinal))
            {
                convolutionMethods += CheckConvolutionLoop(width, name, method) ? 1 : 0;
                continue;
            }
            bool micro = name.Contains("GemmMicroKernel:Kernel[", StringComparison.Ordinal);
            bool narrow = name.Contains("GemmNarrowKernel:Block[", StringComparison.Ordinal);
            if (!micro && !narrow)
                continue;
            checkedMethods++;
            // The hot loop: the block with the most vector multiplies.
            string loop = Blocks().Split(method).MaxBy(b => MultiplyAdd().Count(b))!;
            int multiplyAdds = MultiplyAdd().Count(loop);
            int expected = micro ? MicroKernelRows(name) * 2 : NarrowRows(name) * NarrowVectors(name);
            // Without FMA a multiply-add is a multiply and an add: count the multiplies.
            Assert.True(multiplyAdds == expected, $"{width}: {name}: {multiplyAdds} multiply-adds in the loop, expected {expected}.\n{loop}");
            foreach (string line in loop.Split('\n').Skip(1).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith(';')))
            {
                string op = line.Split(' ', 2)[0];
                Assert.False(StackOperand().IsMatch(line), $"{width}: {name}: stack traffic in the loop: {line}");
                Assert.True(Allowed().IsMatch(op), $"{width}: {name}: '{line}' in the loop, which should hold only loads, broadcasts, multiply-adds and address arithmetic.\n{loop}");
            }
        }
        Assert.True(checkedMethods >= 6, $"{width}: only {checkedMethods} kernel listings found");
        Assert.True(convolutionMethods >= 3, $"{width}: only {convolutionMethods} listings of the convolution-pooling kernels found");
    }

    /// <summary>
    /// The convolution-pooling pass's hot loops (<see cref="ConvReluPool{T}"/>: the forward blocks and
    /// the weight gradient's taps): no vector register to or from the stack and no call — a helper call for a static in
    /// the loop, or a branchy cursor, once kept every accumulator on the stack — and, for the taps,
    /// one multiply-add per tap and vector. Their other instructions (masks from the winners' bits)
    /// are not listed. Returns whether <paramref name="name"/> was one of them.
    /// </summary>
    private static bool CheckConvolutionLoop(string width, string name, string method)
    {
        bool taps = name.Contains(":Taps[", StringComparison.Ordinal) && name.Contains("Vector", StringComparison.Ordinal) && TapShape().IsMatch(name);
        bool forward = name.Contains(":ForwardImages[", StringComparison.Ordinal);
        if (!taps && !forward)
            return false;
        // The block with the most multiply-adds and those it falls through to: the JIT splits a long loop body.
        string[] blocks = Blocks().Split(method);
        int hot = Array.IndexOf(blocks, blocks.MaxBy(b => MultiplyAdd().Count(b)));
        string loop = blocks[hot];
        for (int next = hot + 1; next < blocks.Length && !EndsWithJump(blocks[next - 1]); next++)
            loop += "\n" + blocks[next];
        if (taps)
        {
            var shape = TapShape().Match(name);
            int expected = int.Parse(shape.Groups[1].Value) * (shape.Groups[2].Value == "Two" ? 2 : 1);
            Assert.True(MultiplyAdd().Count(loop) == expected, $"{width}: {name}: {MultiplyAdd().Count(loop)} multiply-adds in the loop, expected {expected}.\n{loop}");
        }
        foreach (string line in loop.Split('\n').Skip(1).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith(';')))
        {
            // A vector register to or from the stack (a spilled accumulator); a reloaded loop bound is the JIT's business.
            Assert.False(StackOperand().IsMatch(line) && VectorRegister().IsMatch(line), $"{width}: {name}: vector stack traffic in the loop: {line}\n{loop}");
            Assert.False(line.StartsWith("call", StringComparison.Ordinal), $"{width}: {name}: a call in the loop: {line}\n{loop}");
        }
        return true;
    }

    private static bool EndsWithJump(string block) =>
        block.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0 && !l.StartsWith(';'))?.StartsWith('j') ?? false;

    private static int MicroKernelRows(string name) =>
        name.Contains("Tile12", StringComparison.Ordinal) ? 12 : name.Contains("Tile8Of12", StringComparison.Ordinal) ? 8
        : name.Contains("Tile4Of12", StringComparison.Ordinal) ? 4 : 6;

    private static int NarrowRows(string name) => int.Parse(NarrowShape().Match(name).Groups[1].Value);

    private static int NarrowVectors(string name) => int.Parse(NarrowShape().Match(name).Groups[2].Value);

    [GeneratedRegex(@"\n(?=G_M\d+_IG\d+:)")]
    private static partial Regex Blocks();

    [GeneratedRegex(@"\b(vfmadd\d+p[sd]|vmulp[sd]|mulp[sd])\b")]
    private static partial Regex MultiplyAdd();

    [GeneratedRegex(@"\[(rbp|rsp)")]
    private static partial Regex StackOperand();

    [GeneratedRegex(@"^(vmovup[sd]|vbroadcasts[sd]|vmovddup|vfmadd231p[sd]|vmulp[sd]|vaddp[sd]|add|sub|inc|dec|lea|imul|mov|movsxd|cmp|test|j[a-z]+|align|nop)$")]
    private static partial Regex Allowed();

    [GeneratedRegex(@"NeuralBasics\.Kernels\.(\w+|ConvReluPool`1\[\w+\]):\w+\[[^(]*Ops`1\[")]
    private static partial Regex VectorKernel();

    [GeneratedRegex(@"\b[xyz]mm\d+\b")]
    private static partial Regex VectorRegister();

    [GeneratedRegex(@"Taps(\d+)\[\w+\],NeuralBasics\.Kernels\.ConvReluPool`1\+\w+\[\w+\],NeuralBasics\.Kernels\.ConvReluPool`1\+(One|Two)Vectors?")]
    private static partial Regex TapShape();

    [GeneratedRegex(@"Narrow(\d+)x(\d+)")]
    private static partial Regex NarrowShape();
}
