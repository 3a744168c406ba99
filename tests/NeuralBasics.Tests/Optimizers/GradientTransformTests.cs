using System.Numerics;
using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Scoring;
using NeuralBasics.Training;
using NeuralBasics.Training.Distributed;

namespace NeuralBasics.Tests.Optimizers;

/// <summary>Transforms that see the step: decoupled weight decay, and a transform with state per tensor.</summary>
public sealed class GradientTransformTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("neuralbasics-transforms-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static Sequential<float> Mlp() => new NetworkBuilder<float>(2, seed: 5).Dense(24, new Relu()).Dense(12, new Tanh()).Dense(3).Build();

    private static float[] Weights(IScoreFunction<float> score) => [.. score.Parameters.SelectMany(p => p.Value.Span.ToArray())];

    [Fact]
    public void AdamW_IsDecoupledWeightDecayThenAdam_BitForBit()
    {
        var spiral = SyntheticData.Spiral<float>(60, 3, seed: 3);
        var options = new TrainerOptions { Epochs = 6, BatchSize = 32, Seed = 11 };
        var schedule = new CosineAnnealing(0.01, 40, 1e-4);
        var rule = Mlp();
        new Trainer<float>(rule, SoftmaxCrossEntropyLoss.Instance, null, new AdamW(schedule, weightDecay: 0.05), options).Train(spiral);
        var chain = Mlp();
        new Trainer<float>(chain, SoftmaxCrossEntropyLoss.Instance, null, new UpdateChain([new DecoupledWeightDecay(0.05)], new Adam(schedule)), options).Train(spiral);
        var plain = Mlp();
        new Trainer<float>(plain, SoftmaxCrossEntropyLoss.Instance, null, new Adam(schedule), options).Train(spiral);

        Assert.Equal(Weights(rule), Weights(chain));
        Assert.NotEqual(Weights(plain), Weights(chain));
    }

    [Fact]
    public void DecoupledWeightDecay_ShrinksWeightsBy1MinusLrLambda_BeforeTheRule_AndLeavesBiases()
    {
        var data = SyntheticData.Blobs<float>(10, 3, 4, seed: 1);
        var score = new LinearScore<float>(4, 3, weightScale: 0.5, seed: 2);
        for (int j = 0; j < 3; j++)
            score.Biases.Value.Span[j] = 0.25f * (j + 1);
        float[] w0 = score.Weights.Value.Span.ToArray(), b0 = score.Biases.Value.Span.ToArray();
        var step = new TrainingStep<float>(score, SoftmaxCrossEntropyLoss.Instance, null, new UpdateChain([new DecoupledWeightDecay(0.5)], new Sgd(0.1)));

        step.Run(data.Features, data.Labels);

        // SGD after the decay: w ← g·(−lr) + w·(1 − lr·λ), the gradient taken at the old weights (it is left in place).
        float keep = (float)(1 - 0.1 * 0.5), minusLr = -0.1f;
        var g = score.Weights.Gradient.Span;
        for (int i = 0; i < w0.Length; i++)
            Assert.Equal(g[i] * minusLr + w0[i] * keep, score.Weights.Value.Span[i]);
        var gb = score.Biases.Gradient.Span;
        for (int j = 0; j < b0.Length; j++)
            Assert.Equal(gb[j] * minusLr + b0[j], score.Biases.Value.Span[j]);
        Assert.Throws<InvalidOperationException>(() => new DecoupledWeightDecay(0.1).Apply(score.Parameters, 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DecoupledWeightDecay(-1));
    }

    [Fact]
    public void ADownpourWorker_RefusesATransformThatChangesTheParameters()
    {
        var net = Mlp();
        var server = new InProcessParameterServer<float>(net.Parameters.Select(p => (ReadOnlyMemory<float>)p.Value.Memory), new Adam(0.01));
        var setup = new TrainingSetup<float>(net, SoftmaxCrossEntropyLoss.Instance, null, new UpdateChain([new DecoupledWeightDecay(0.01)], new Adam(0.01)));
        var e = Assert.Throws<ArgumentException>(() => new DownpourWorker<float>(setup, server, 0));
        Assert.Contains("must run where the rule runs", e.Message);
        // Clipping only changes gradients: fine at a worker.
        _ = new DownpourWorker<float>(setup with { Update = new UpdateChain([new ClipByGlobalNorm(1)], new Adam(0.01)) }, server, 0);
    }

    [Fact]
    public void ATransformWithStatePerTensor_SeesEveryStepAndTheLearningRate_AndItsStateIsCheckpointed()
    {
        var spiral = SyntheticData.Spiral<float>(40, 3, seed: 3);
        var schedule = new StepDecay(0.02, 0.5, 7);
        var options = new TrainerOptions { Epochs = 4, BatchSize = 32, Seed = 11 };
        var transform = new Smoothing();
        var whole = Mlp();
        new Trainer<float>(whole, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-4), new UpdateChain([transform], new Adam(schedule)), options).Train(spiral);

        int steps = 4 * (120 / 32 + 1);
        Assert.Equal(steps * whole.Parameters.Count, transform.Calls);
        Assert.Equal(Enumerable.Range(0, steps).Select(t => schedule.At(t)), transform.LearningRates);
        var plain = Mlp();
        new Trainer<float>(plain, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-4), new Adam(schedule), options).Train(spiral);
        Assert.NotEqual(Weights(plain), Weights(whole));

        // Two epochs, a checkpoint, two more: the same bits, so the smoothing state was saved and restored.
        string path = Path.Combine(_folder, "smoothing.safetensors");
        var resumed = Mlp();
        new Trainer<float>(resumed, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-4), new UpdateChain([new Smoothing()], new Adam(schedule)),
            options with { Epochs = 2, CheckpointPath = path }).Train(spiral);
        var again = Mlp();
        new Trainer<float>(again, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-4), new UpdateChain([new Smoothing()], new Adam(schedule)),
            options with { CheckpointPath = path }).Resume(path, spiral);
        Assert.Equal(Weights(whole), Weights(again));
    }

    /// <summary>g ← (g + g_previous) / 2 per tensor, the previous gradient kept in the transform's state; records what it saw.</summary>
    private sealed class Smoothing : IGradientTransform
    {
        private long? _start;

        public int Calls { get; private set; }

        public List<double> LearningRates { get; } = [];

        public void Apply<T>(IReadOnlyList<Parameter<T>> parameters, double globalNorm)
            where T : unmanaged, IFloatingPointIeee754<T> => throw new InvalidOperationException("The chain calls the step overload.");

        public UpdateState? CreateState<T>(int length)
            where T : unmanaged, IFloatingPointIeee754<T> => new PreviousGradient<T>(length);

        public void Apply<T>(TransformStep<T> step)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            LearningRates.Add(step.LearningRate(0));
            for (int k = 0; k < step.Parameters.Count; k++)
            {
                Calls++;
                var state = (PreviousGradient<T>)step.State(k)!;
                _start ??= state.Step;
                Assert.Equal(_start + LearningRates.Count - 1, state.Step);
                var g = step.Parameters[k].Gradient.Span;
                T half = T.CreateChecked(0.5);
                for (int i = 0; i < g.Length; i++)
                {
                    T previous = state.Previous[i];
                    state.Previous[i] = g[i];
                    if (state.Step > 0)
                        g[i] = (g[i] + previous) * half;
                }
            }
        }
    }

    private sealed record PreviousGradient<T>(int Length) : UpdateState(Length)
    {
        public T[] Previous { get; } = new T[Length];

        public override IReadOnlyList<KeyValuePair<string, Array>> Buffers => [new("previous", Previous)];
    }
}
