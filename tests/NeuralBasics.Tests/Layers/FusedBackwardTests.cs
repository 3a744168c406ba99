using System.Numerics;
using NeuralBasics.Activations;
using NeuralBasics.Layers;

namespace NeuralBasics.Tests.Layers;

/// <summary>
/// A network's backward pass runs a dense layer's input gradient and the ReLU below it in one pass
/// (<c>Dense → ReLU → Dense</c>): every parameter gradient and the input gradient must have the
/// bits of the layers' own backward passes run one by one, whichever product path computes dX
/// (one row, narrow, blocked, split across cores).
/// </summary>
public class FusedBackwardTests
{
    [Theory]
    [InlineData(1, 20, 16, 12)]    // one row: the row kernel
    [InlineData(7, 20, 16, 12)]    // hidden widths within one vector: the narrow kernel
    [InlineData(37, 30, 45, 20)]   // blocked, with edge tiles
    [InlineData(300, 64, 300, 40)] // large enough to be split across the cores
    public void FusedReluBackward_HasTheBitsOfTheLayersOneByOne(int batch, int inputs, int hidden1, int hidden2)
    {
        Check<float>(batch, inputs, hidden1, hidden2);
        Check<double>(batch, inputs, hidden1, hidden2);
        // Half has no vector kernels: the product runs the scalar kernel, and the ReLU pass apart.
        if (batch < 100)
            Check<Half>(batch, inputs, hidden1, hidden2);
    }

    private static void Check<T>(int batch, int inputs, int hidden1, int hidden2)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var net = new NetworkBuilder<T>(inputs, seed: 5).Dense(hidden1, new Relu()).Dense(hidden2, new Relu()).Dense(3).Build();
        var x = TestData.Uniform<T>(batch, inputs, 9);
        var scores = new Matrix<T>(batch, 3);
        var dScores = TestData.Uniform<T>(batch, 3, 10);
        var layers = net.Layers;

        // The layers one by one: forward into fresh buffers, then each layer's own backward pass.
        var outputs = new Matrix<T>[layers.Count];
        ReadOnlyMatrixSpan<T> current = x;
        for (int l = 0; l < layers.Count; l++)
        {
            outputs[l] = new Matrix<T>(batch, layers[l].OutputCount);
            layers[l].Forward(current, outputs[l]);
            current = outputs[l];
        }
        var gradients = new Matrix<T>[layers.Count];
        ReadOnlyMatrixSpan<T> gradient = dScores;
        var inputGradient = new Matrix<T>(batch, inputs);
        for (int l = layers.Count - 1; l >= 0; l--)
        {
            MatrixSpan<T> below = l == 0 ? inputGradient : (gradients[l - 1] = new Matrix<T>(batch, layers[l - 1].OutputCount));
            layers[l].Backward(l == 0 ? x : outputs[l - 1], outputs[l], gradient, below);
            gradient = below;
        }
        var expected = net.Parameters.Select(p => p.Gradient.Span.ToArray()).ToList();

        // The network's own pass, fused.
        foreach (var p in net.Parameters)
            p.Gradient.Span.Fill(T.NaN);
        var fusedInputGradient = new Matrix<T>(batch, inputs);
        net.Forward(x, scores);
        net.Backward(x, dScores, fusedInputGradient);

        Assert.True(scores.Span.SequenceEqual(outputs[^1].Span));
        for (int k = 0; k < expected.Count; k++)
            Assert.True(expected[k].AsSpan().SequenceEqual(net.Parameters[k].Gradient.Span), $"{typeof(T).Name}: {net.Parameters[k].Name} differs");
        Assert.True(inputGradient.Span.SequenceEqual(fusedInputGradient.Span));
        // Some units are off: the mask matters.
        Assert.Contains(T.Zero, gradients[2].Span.ToArray());
    }
}
