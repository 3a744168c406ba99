using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Scoring;
using NeuralBasics.Training;

namespace NeuralBasics.Tests.Training;

/// <summary>
/// The seeded training runs whose final weights <see cref="GoldenRunTests"/> pins: every update
/// rule, every loss, an MLP and a maxout network, one and two synchronous workers, clipping, early
/// stopping, resuming and Newton's method, each hashed (the first 16 hex digits of SHA-256 over the
/// weights' bytes). Run in the test process, and in child processes at narrower vector widths
/// (<c>dotnet NeuralBasics.Tests.dll golden</c>, see <see cref="Program"/>).
/// </summary>
internal static class GoldenRuns
{
    public static IReadOnlyList<string> Names { get; } =
    [
        "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "adadelta", "nadam", "adamax",
        "hinge-linear", "squared-hinge-linear", "softmax-maxout-l2", "mlp-two-workers", "mlp-clipped",
        "mlp-early-stopping", "mlp-resumed", "mlp-double", "mlp-wide", "newton-spiral", "newton-blobs",
    ];

    /// <summary>
    /// The vector width that decides this process's bits, as the key of a column of pinned hashes:
    /// <c>x64-512</c> (AVX-512), <c>x64-256</c> (AVX2 with FMA, AVX-512 off or absent), <c>x64-128</c>
    /// (128-bit vectors, no FMA: <c>DOTNET_EnableAVX2=0</c> or an x64 without AVX2), <c>arm64</c>
    /// (128-bit NEON with FMA), or <c>other</c>. The order of additions follows the GEMM kernel
    /// (its width and KC) and <see cref="Vector{T}"/>'s width; whether multiply-adds are fused
    /// changes the rounding.
    /// </summary>
    public static string Width { get; } = ReadWidth();

    private static string ReadWidth()
    {
        if (RuntimeInformation.ProcessArchitecture == Architecture.Arm64)
            return "arm64";
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64)
            return "other";
        bool fma = System.Runtime.Intrinsics.X86.Fma.IsSupported;
        if (Vector512.IsHardwareAccelerated && fma && Vector<float>.Count == 8)
            return "x64-512";
        if (!Vector512.IsHardwareAccelerated && Vector256.IsHardwareAccelerated && fma && Vector<float>.Count == 8)
            return "x64-256";
        if (!Vector256.IsHardwareAccelerated && Vector128.IsHardwareAccelerated && !fma && Vector<float>.Count == 4)
            return "x64-128";
        return "other";
    }

    private static UpdateRule RuleNamed(string name) => name switch
    {
        "sgd" => new Sgd(0.1),
        "momentum" => new Momentum(0.05, mu: 0.9),
        "nesterov" => new Nesterov(0.05, mu: 0.9),
        "adagrad" => new AdaGrad(0.1),
        "rmsprop" => new RmsProp(0.01),
        "adam" => new Adam(0.01),
        "adamw" => new AdamW(0.01, weightDecay: 0.05),
        "adadelta" => new AdaDelta(),
        "nadam" => new Nadam(0.01),
        "adamax" => new Adamax(0.01),
        "scheduled" => new Adam(new CosineAnnealing(0.01, 200, 1e-4)),
        _ => throw new ArgumentException($"No golden run is named '{name}'.", nameof(name)),
    };

    private static Sequential<T> Mlp<T>(int inputs)
        where T : unmanaged, IFloatingPointIeee754<T> => new NetworkBuilder<T>(inputs, seed: 5).Dense(24, new Relu()).Dense(12, new Tanh()).Dense(3).Build();

    public static string Run(string run, string folder)
    {
        var spiral = SyntheticData.Spiral<float>(60, 3, seed: 3);
        var blobs = SyntheticData.Blobs<float>(40, 3, 4, seed: 6);
        var options = new TrainerOptions { Epochs = 8, BatchSize = 32, Seed = 17 };
        switch (run)
        {
            case "hinge-linear":
            case "squared-hinge-linear":
            {
                var score = new LinearScore<float>(4, 3, seed: 2);
                ILoss loss = run == "hinge-linear" ? new MulticlassHingeLoss(1.0, [1, 2, 1]) : new SquaredHingeLoss(0.5);
                new Trainer<float>(score, loss, new L2Regularization(1e-3), new Sgd(0.05), options).Train(blobs);
                return Hash<float>(score);
            }
            case "softmax-maxout-l2":
            {
                var net = new NetworkBuilder<float>(2, seed: 8).Maxout(16, pieces: 3).Dense(3).Build();
                new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-4), new Adam(0.01), options).Train(spiral);
                return Hash<float>(net);
            }
            case "mlp-two-workers":
            {
                var net = Mlp<float>(2);
                new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.01), options with { Workers = 2 }).Train(spiral);
                return Hash<float>(net);
            }
            case "mlp-clipped":
            {
                var net = Mlp<float>(2);
                new Trainer<float>(net, new MulticlassHingeLoss(), new L2Regularization(1e-4), new UpdateChain([new ClipByGlobalNorm(0.5)], new Momentum(0.2)),
                    options).Train(spiral);
                return Hash<float>(net);
            }
            case "mlp-early-stopping":
            {
                var (train, validation) = DataSplit.Stratified(spiral, 0.25, seed: 4);
                var net = Mlp<float>(2);
                new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.02),
                    options with { Epochs = 40, EarlyStopping = new EarlyStopping(3, EarlyStoppingMetric.ValidationAccuracy) }).Train(train, validation);
                return Hash<float>(net);
            }
            case "mlp-resumed":
            {
                string checkpoint = Path.Combine(folder, $"{Guid.NewGuid():N}.ckpt");
                new Trainer<float>(Mlp<float>(2), SoftmaxCrossEntropyLoss.Instance, null, RuleNamed("scheduled"), options with { Epochs = 4, CheckpointPath = checkpoint })
                    .Train(spiral);
                var net = Mlp<float>(2);
                new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, null, RuleNamed("scheduled"), options).Resume(checkpoint, spiral);
                return Hash<float>(net);
            }
            case "mlp-double":
            {
                var net = Mlp<double>(2);
                new Trainer<double>(net, new SquaredHingeLoss(), new L2Regularization(1e-4), new Nadam(0.01), options)
                    .Train(SyntheticData.Spiral<double>(60, 3, seed: 3));
                return Hash<double>(net);
            }
            case "mlp-wide":
            {
                // 1,100 inputs: the first layer's product is longer than every kernel's KC (256 to
                // 1,024), so its K slices and their order are pinned too; the other runs' K is 24 at most.
                var wide = SyntheticData.Blobs<float>(40, 3, 1100, spread: 4.0, seed: 9);
                var net = new NetworkBuilder<float>(1100, seed: 5).Dense(40, new Relu()).Dense(3).Build();
                new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-4), new Adam(0.01), options).Train(wide);
                return Hash<float>(net);
            }
            case "newton-spiral":
            case "newton-blobs":
            {
                var data = run == "newton-spiral" ? SyntheticData.Spiral<double>(60, 3, seed: 3) : SyntheticData.Blobs<double>(40, 3, 4, seed: 6);
                var score = new LinearScore<double>(data.FeatureCount, 3, seed: 2);
                NewtonMethod.Minimize(score, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-3), data, new NewtonOptions { MaxIterations = 6 });
                return Hash<double>(score);
            }
            case "sgd" or "momentum" or "nesterov" or "adagrad" or "rmsprop" or "adam" or "adamw" or "adadelta" or "nadam" or "adamax":
            {
                var net = Mlp<float>(2);
                new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-4), RuleNamed(run), options).Train(spiral);
                return Hash<float>(net);
            }
            default:
                throw new ArgumentException($"No golden run is named '{run}'.", nameof(run));
        }
    }

    private static string Hash<T>(IScoreFunction<T> score)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // The library's managed SHA-256: the same digest as .NET's, without OpenSSL (absent under an Arm64 emulation).
        var sha = new NeuralBasics.Serialization.Sha256();
        foreach (var p in score.Parameters)
            sha.Append(MemoryMarshal.AsBytes(p.Value.Span));
        return Convert.ToHexStringLower(sha.GetHashAndReset())[..16];
    }
}
