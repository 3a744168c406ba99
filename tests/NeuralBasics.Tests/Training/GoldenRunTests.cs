using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
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
/// Golden results: the final weights of seeded training runs that cover every update rule, every
/// loss, an MLP and a maxout network, one and two synchronous workers, clipping, early stopping,
/// resuming and Newton's method, each hashed (SHA-256 of the weights' bytes). A refactoring of the
/// training code must keep every hash (issue 14); a change meant to alter results updates them
/// and says so.
/// </summary>
/// <remarks>
/// The hashes hold on processors with AVX-512 and 256-bit <see cref="Vector{T}"/> (.NET's
/// default): the vector width decides the order of additions. Elsewhere the test checks that each
/// run gives the same hash twice.
/// </remarks>
public sealed class GoldenRunTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("neuralbasics-golden-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static bool RecordedHardware => Vector512.IsHardwareAccelerated && Vector<float>.Count == 8;

    public static TheoryData<string, string> Runs() => new()
    {
        { "sgd", "8fb2ee69fba811c6" },  // re-pinned for issue 16: tanh made odd and exact near 0 (was 9c0178aa9843a221)
        { "momentum", "6fda788da715fb0c" },  // re-pinned for issue 16: tanh made odd and exact near 0 (was 8de3a3bb43809d66)
        { "nesterov", "e56923c1a41149f1" },  // re-pinned for issue 16: tanh made odd and exact near 0 (was 189a81489f04a072)
        { "adagrad", "abd7ab3aefa1719a" },  // re-pinned for issue 16: tanh made odd and exact near 0 (was 652c1f0dbfdbcf76)
        { "rmsprop", "2c80c77448c53d30" },  // re-pinned for issue 16: tanh made odd and exact near 0 (was 3e60407f5c0a0a3f)
        { "adam", "92f13ca9e37e88fc" },  // re-pinned for issue 16: tanh made odd and exact near 0 (was d4e4c0c066403702)
        { "adadelta", "84c6cf3d027eb31d" },  // re-pinned for issue 16: tanh made odd and exact near 0 (was 9d8f543c745dff81)
        { "nadam", "0b0d6d5e8fe944a1" },        // re-pinned for issue 16: Nadam's momentum warm-up (ψ = 0.004) became the default, and tanh exact near 0 (was 0719e2ffe3bfa789)
        { "adamax", "b663097e79b6bdfd" },  // re-pinned for issue 16: tanh made odd and exact near 0 (was dae312d409e52e90)
        { "hinge-linear", "efef3dfbc6c2857b" },
        { "squared-hinge-linear", "8a7efa932f1b503c" },
        { "softmax-maxout-l2", "3596465c3325ff1c" },
        { "mlp-two-workers", "56287d1a276c2ed3" },  // re-pinned for issue 16: tanh made odd and exact near 0 (was c37eee0160a0f72e)
        { "mlp-clipped", "2e9aa8537cf50221" },  // re-pinned for issue 16: tanh made odd and exact near 0 (was ade644bdfc9edd55)
        { "mlp-early-stopping", "94027f9146fe57a8" },  // re-pinned for issue 16: tanh made odd and exact near 0 (was 6fe1dcaf41ab6d16)
        { "mlp-resumed", "71da66c3b2481bb1" },  // re-pinned for issue 16: tanh made odd and exact near 0 (was 1e95c74ea99f78c7)
        { "mlp-double", "cf53bbdf47c54a19" },   // re-pinned for issue 16: trains with Nadam (warm-up now the default) and tanh (exact near 0) (was f90edccf2d09a070)
        { "newton-spiral", "b32d74c72aa32b9c" },
        { "newton-blobs", "c526a806013777e2" },
    };

    [Theory]
    [MemberData(nameof(Runs))]
    public void SeededRuns_KeepTheirFinalWeights(string run, string expected)
    {
        string hash = Run(run);
        Assert.Equal(hash, Run(run));
        if (RecordedHardware)
            Assert.Equal(expected, hash);
    }

    private static UpdateRule RuleNamed(string name) => name switch
    {
        "sgd" => new Sgd(0.1),
        "momentum" => new Momentum(0.05, mu: 0.9),
        "nesterov" => new Nesterov(0.05, mu: 0.9),
        "adagrad" => new AdaGrad(0.1),
        "rmsprop" => new RmsProp(0.01),
        "adam" => new Adam(0.01),
        "adadelta" => new AdaDelta(),
        "nadam" => new Nadam(0.01),
        "adamax" => new Adamax(0.01),
        _ => new Adam(new CosineAnnealing(0.01, 200, 1e-4)),
    };

    private static Sequential<T> Mlp<T>(int inputs)
        where T : unmanaged, IFloatingPointIeee754<T> => new NetworkBuilder<T>(inputs, seed: 5).Dense(24, new Relu()).Dense(12, new Tanh()).Dense(3).Build();

    private string Run(string run)
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
                string checkpoint = Path.Combine(_folder, $"{Guid.NewGuid():N}.ckpt");
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
            case "newton-spiral":
            case "newton-blobs":
            {
                var data = run == "newton-spiral" ? SyntheticData.Spiral<double>(60, 3, seed: 3) : SyntheticData.Blobs<double>(40, 3, 4, seed: 6);
                var score = new LinearScore<double>(data.FeatureCount, 3, seed: 2);
                NewtonMethod.Minimize(score, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-3), data, new NewtonOptions { MaxIterations = 6 });
                return Hash<double>(score);
            }
            default:
            {
                var net = Mlp<float>(2);
                new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-4), RuleNamed(run), options).Train(spiral);
                return Hash<float>(net);
            }
        }
    }

    private static string Hash<T>(IScoreFunction<T> score)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var p in score.Parameters)
            sha.AppendData(MemoryMarshal.AsBytes(p.Value.Span));
        return Convert.ToHexStringLower(sha.GetHashAndReset())[..16];
    }
}
