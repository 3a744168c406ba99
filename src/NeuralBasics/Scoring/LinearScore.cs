using System.Numerics;
using NeuralBasics.Layers;
using NeuralBasics.Components;

namespace NeuralBasics.Scoring;

/// <summary>
/// The linear score function <c>f(x) = xW + b</c>, batched as <c>S = XW + b</c>: X is N x D,
/// W is D x C, b is a row of C biases added to every row.
/// </summary>
/// <remarks>
/// Backward, given <c>dS = dL/dS</c>: <c>dW = Xᵀ·dS</c>, <c>db = Σ_i dS[i, :]</c>,
/// <c>dX = dS·Wᵀ</c>. It is one <see cref="Dense{T}"/> layer; it keeps no buffers, so a trained
/// instance may score batches from several threads at once.
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
public sealed class LinearScore<T> : IScoreFunction<T>, IDescribedComponent, IOnnxNodes
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Dense<T> _dense;

    /// <summary>
    /// Creates a D x C linear score with weights drawn from <c>N(0, weightScale²)</c> with the
    /// given <paramref name="seed"/>, and zero biases.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A count below 1 (2 for classes), or a negative or non-finite scale.</exception>
    public LinearScore(int inputCount, int classCount, double weightScale = 0.01, int seed = 0)
    {
        Guard.AtLeast(inputCount, 1, "The number of input features");
        Guard.ClassCount(classCount);
        _dense = new Dense<T>(inputCount, classCount, WeightInit.Gaussian(weightScale), seed);
    }

    private LinearScore(Dense<T> dense) => _dense = dense;

    /// <summary>W, D x C: column c holds class c's template.</summary>
    public Parameter<T> Weights => _dense.Weights;

    /// <summary>b, 1 x C.</summary>
    public Parameter<T> Biases => _dense.Biases;

    /// <inheritdoc/>
    public int InputCount => _dense.InputCount;

    /// <inheritdoc/>
    public int ClassCount => _dense.OutputCount;

    /// <inheritdoc/>
    public IReadOnlyList<Parameter<T>> Parameters => _dense.Parameters;


    /// <inheritdoc/>
    public string Kind => "linear";

    /// <inheritdoc/>
    public void Describe(ComponentDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        description.Set("inputs", InputCount);
        description.Set("classes", ClassCount);
    }

    /// <summary>One Gemm node.</summary>
    public string AddOnnxNodes(IOnnxGraph graph, string input, string output) => _dense.AddOnnxNodes(graph, input, output);

    /// <summary>A deep copy: same values, its own gradients.</summary>
    public LinearScore<T> Clone() => new(_dense.Clone());

    IScoreFunction<T> IScoreFunction<T>.Clone() => Clone();

    /// <inheritdoc/>
    public void Forward(ReadOnlyMatrixSpan<T> inputs, MatrixSpan<T> scores)
    {
        CheckInputs(inputs);
        _dense.Forward(inputs, scores);
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlyMatrixSpan<T> inputs, ReadOnlyMatrixSpan<T> scoreGradient, MatrixSpan<T> inputGradient)
    {
        CheckInputs(inputs);
        if (scoreGradient.Rows != inputs.Rows || scoreGradient.Columns != ClassCount)
            throw new ArgumentException(
                $"The score gradient is {scoreGradient.ToString()} but {inputs.Rows} inputs and {ClassCount} classes need {Shape.Of(inputs.Rows, ClassCount)}.",
                nameof(scoreGradient));
        // The dense layer's backward pass does not read its output; pass the gradient as a stand-in of the right shape.
        _dense.Backward(inputs, scoreGradient, scoreGradient, inputGradient);
    }

    private void CheckInputs(ReadOnlyMatrixSpan<T> inputs)
    {
        if (inputs.Columns != InputCount)
            throw new ArgumentException(
                $"The inputs {inputs.ToString()} have {inputs.Columns} features but the weights {Weights.Value} expect {InputCount}.", nameof(inputs));
    }

    /// <inheritdoc/>
    public override string ToString() => $"LinearScore({InputCount} -> {ClassCount})";
}
