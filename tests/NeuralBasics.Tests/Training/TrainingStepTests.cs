using NeuralBasics.Activations;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Training;

namespace NeuralBasics.Tests.Training;

/// <summary>
/// The step's update phase runs over every tensor at once, cut into blocks spread over the cores.
/// These tests use a network big enough to be cut (100,480 + 1,290 parameters) and check it against
/// the same step written with the public per-tensor pieces.
/// </summary>
public class TrainingStepTests
{
    private static Sequential<float> Network() => new NetworkBuilder<float>(784, seed: 3).Dense(128, new Relu()).Dense(10).Build();

    [Fact]
    public void Steps_EqualTheUpdateDoneTensorByTensor_Bitwise()
    {
        var x = TestData.Uniform<float>(64, 784, 5);
        int[] y = [.. Enumerable.Range(0, 64).Select(i => i % 10)];
        var l2 = new L2Regularization(1e-3);
        var rule = new Adam(1e-3);

        var net = Network();
        var step = new TrainingStep<float>(net, SoftmaxCrossEntropyLoss.Instance, l2, rule);

        var byHand = Network();
        var states = byHand.Parameters.Select(p => rule.CreateState<float>(p.Value.Span.Length)).ToArray();
        var scores = new Matrix<float>(64, 10);
        var dScores = new Matrix<float>(64, 10);
        for (int t = 0; t < 3; t++)
        {
            step.Run(x, y);

            byHand.Forward(x, scores);
            SoftmaxCrossEntropyLoss.Instance.Compute<float>(scores, y, dScores);
            byHand.Backward(x, dScores, default);
            double squares = 0;
            for (int k = 0; k < states.Length; k++)
            {
                var p = byHand.Parameters[k];
                if (p.IsRegularized)
                    l2.AddGradient<float>(p.Value.Span, p.Gradient.Span);
                squares += p.Gradient.Span.ToArray().Sum(g => (double)g * g);
                rule.Apply<float>(p.Value.Span, p.Gradient.Span, states[k]);
            }
            Assert.Equal(Math.Sqrt(squares), step.LastGradientNorm, Math.Sqrt(squares) * 1e-6);
        }
        for (int k = 0; k < states.Length; k++)
        {
            Assert.Equal(byHand.Parameters[k].Value.Span.ToArray(), net.Parameters[k].Value.Span.ToArray());
            Assert.Equal(((AdamState<float>)states[k]).V, ((AdamState<float>)step.States[k]).V);
            Assert.Equal(3, step.States[k].Step);
        }
    }

    [Fact]
    public void ANonFiniteGradientInALateBlock_StopsTheStep_BeforeAnythingChanges()
    {
        // A 784 -> 10 layer, then a layer whose 80,000-element parameter gets gradient 1 everywhere,
        // or NaN in its very last element when poisoned: a block another core would update.
        var poison = new PoisonLayer(10, 80_000);
        var net = new Sequential<float>(new Dense<float>(784, 10, WeightInit.He, seed: 1), poison);
        var step = new TrainingStep<float>(net, SoftmaxCrossEntropyLoss.Instance, null, new Momentum(0.1));
        var x = TestData.Uniform<float>(32, 784, 5);
        int[] y = [.. Enumerable.Range(0, 32).Select(i => i % 10)];
        step.Run(x, y);
        var before = net.Parameters.Select(p => p.Value.Span.ToArray()).ToArray();
        var velocity = step.States.Select(s => ((VelocityState<float>)s).Velocity.ToArray()).ToArray();

        poison.Poisoned = true;
        float loss = step.Run(x, y);

        Assert.True(float.IsNaN(loss));
        Assert.Equal("the gradient of poison is not finite", step.LastProblem);
        for (int k = 0; k < before.Length; k++)
        {
            Assert.Equal(before[k], net.Parameters[k].Value.Span.ToArray());
            Assert.Equal(velocity[k], ((VelocityState<float>)step.States[k]).Velocity);
            Assert.Equal(1, step.States[k].Step);
        }
    }

    /// <summary>Passes its input through; its one parameter's gradient is all ones, or NaN at the end when poisoned.</summary>
    private sealed class PoisonLayer(int size, int parameterLength) : ILayer<float>
    {
        private readonly Parameter<float> _parameter = new("poison", new Matrix<float>(1, parameterLength), isRegularized: false);

        public bool Poisoned { get; set; }

        public int InputCount => size;

        public int OutputCount => size;

        public IReadOnlyList<Parameter<float>> Parameters => [_parameter];

        public void Forward(ReadOnlyMatrixSpan<float> input, MatrixSpan<float> output) => input.Span.CopyTo(output.Span);

        public void Backward(ReadOnlyMatrixSpan<float> input, ReadOnlyMatrixSpan<float> output, ReadOnlyMatrixSpan<float> outputGradient, MatrixSpan<float> inputGradient)
        {
            _parameter.Gradient.Span.Fill(1);
            if (Poisoned)
                _parameter.Gradient.Span[^1] = float.NaN;
            if (!inputGradient.IsEmpty)
                outputGradient.Span.CopyTo(inputGradient.Span);
        }

        public ILayer<float> Clone() => throw new NotSupportedException();
    }
}
