using System.Numerics;

namespace NeuralBasics;

/// <summary>
/// A score function <c>S = f(X; θ)</c> mapping an N x D batch of inputs to N x C class scores,
/// with its backward pass next to it: the whole map from features to class scores, which is what
/// losses, trainers, classifiers and model files work with.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Scoring.LinearScore{T}"/> (<c>S = XW + b</c>) is the simplest.
/// <see cref="Layers.Sequential{T}"/> is the other: a chain of <see cref="Layers.ILayer{T}"/> stages.
/// The two abstractions differ in one thing. A layer is a stage that does not own its activations:
/// its backward pass is handed the input <em>and output</em> of its forward pass by the network that
/// stored them, and its output width is whatever the next stage takes. A score function owns the
/// whole pass: it keeps what backward needs itself, so a caller only passes the inputs again, and
/// its output width is the number of classes.
/// </para>
/// <para>
/// Like a layer, an instance may keep work buffers between its forward and backward passes and
/// serves one thread at a time; <see cref="Clone"/> gives another thread its own.
/// </para>
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
public interface IScoreFunction<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>D, the number of input features.</summary>
    int InputCount { get; }

    /// <summary>C, the number of classes (scores per sample).</summary>
    int ClassCount { get; }

    /// <summary>The trainable tensors, in a fixed order.</summary>
    IReadOnlyList<Parameter<T>> Parameters { get; }

    /// <summary>A deep copy: the same parameter values in new buffers, with its own gradients.</summary>
    IScoreFunction<T> Clone();

    /// <summary>Computes the N x C <paramref name="scores"/> of the N x D <paramref name="inputs"/>.</summary>
    /// <exception cref="ArgumentException">A shape does not match, or the buffers overlap.</exception>
    void Forward(ReadOnlyMatrixSpan<T> inputs, MatrixSpan<T> scores);

    /// <summary>
    /// Given <c>dL/dS</c> for the same <paramref name="inputs"/> as the last forward pass, sets
    /// each parameter's <see cref="Parameter{T}.Gradient"/> to <c>dL/dθ</c> (overwriting it) and
    /// writes <c>dL/dX</c> into <paramref name="inputGradient"/> unless that is empty.
    /// </summary>
    /// <exception cref="ArgumentException">A shape does not match, or the buffers overlap.</exception>
    void Backward(ReadOnlyMatrixSpan<T> inputs, ReadOnlyMatrixSpan<T> scoreGradient, MatrixSpan<T> inputGradient);
}
