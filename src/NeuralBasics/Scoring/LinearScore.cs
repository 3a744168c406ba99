using System.Numerics;
using NeuralBasics.Data;
using NeuralBasics.Kernels;

namespace NeuralBasics.Scoring;

/// <summary>
/// The linear score function <c>f(x) = xW + b</c>, batched as <c>S = XW + b</c>: X is N x D,
/// W is D x C, b is a row of C biases added to every row.
/// </summary>
/// <remarks>
/// Backward, given <c>dS = dL/dS</c>: <c>dW = Xᵀ·dS</c>, <c>db = Σ_i dS[i, :]</c>,
/// <c>dX = dS·Wᵀ</c>. Forward and backward use no buffers of their own, so a trained instance
/// may score batches from several threads at once.
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
public sealed class LinearScore<T> : IScoreFunction<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;

    /// <summary>
    /// Creates a D x C linear score with weights drawn from <c>N(0, weightScale²)</c> with the
    /// given <paramref name="seed"/>, and zero biases.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A count below 1 (2 for classes), or a negative or non-finite scale.</exception>
    public LinearScore(int inputCount, int classCount, double weightScale = 0.01, int seed = 0)
    {
        Guard.AtLeast(inputCount, 1, "The number of input features");
        Guard.ClassCount(classCount);
        Guard.NonNegativeFinite(weightScale, "The weight scale");

        var w = new Matrix<T>(inputCount, classCount);
        var random = new Random(seed);
        foreach (ref T x in w.Span)
            x = T.CreateChecked(weightScale * SyntheticData.NextGaussian(random));
        Weights = new Parameter<T>("W", w, isRegularized: true);
        Biases = new Parameter<T>("b", new Matrix<T>(1, classCount), isRegularized: false);
        _parameters = [Weights, Biases];
    }

    private LinearScore(Parameter<T> weights, Parameter<T> biases)
    {
        Weights = weights;
        Biases = biases;
        _parameters = [Weights, Biases];
    }

    /// <summary>W, D x C: column c holds class c's template.</summary>
    public Parameter<T> Weights { get; }

    /// <summary>b, 1 x C.</summary>
    public Parameter<T> Biases { get; }

    /// <inheritdoc/>
    public int InputCount => Weights.Value.Rows;

    /// <inheritdoc/>
    public int ClassCount => Weights.Value.Columns;

    /// <inheritdoc/>
    public IReadOnlyList<Parameter<T>> Parameters => _parameters;

    /// <summary>A deep copy: same values, its own gradients.</summary>
    public LinearScore<T> Clone() =>
        new(new Parameter<T>("W", Weights.Value.Clone(), isRegularized: true),
            new Parameter<T>("b", Biases.Value.Clone(), isRegularized: false));

    IScoreFunction<T> IScoreFunction<T>.Clone() => Clone();

    /// <inheritdoc/>
    public void Forward(ReadOnlyMatrixSpan<T> inputs, MatrixSpan<T> scores)
    {
        CheckInputs(inputs);
        Gemm.Multiply(inputs, Weights.Value.AsReadOnlySpan(), scores);
        RowOps.AddRowVector(scores, Biases.Value.Span, scores);
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlyMatrixSpan<T> inputs, ReadOnlyMatrixSpan<T> scoreGradient, MatrixSpan<T> inputGradient)
    {
        CheckInputs(inputs);
        if (scoreGradient.Rows != inputs.Rows || scoreGradient.Columns != ClassCount)
            throw new ArgumentException(
                $"The score gradient is {scoreGradient.ToString()} but {inputs.Rows} inputs and {ClassCount} classes need {Shape.Of(inputs.Rows, ClassCount)}.",
                nameof(scoreGradient));
        if (!inputGradient.IsEmpty && (inputGradient.Rows != inputs.Rows || inputGradient.Columns != InputCount))
            throw new ArgumentException(
                $"The input gradient is {inputGradient.ToString()} but the inputs are {inputs.ToString()}.", nameof(inputGradient));

        Gemm.MultiplyTransposeA(inputs, scoreGradient, Weights.Gradient.AsSpan());
        RowOps.ColumnSums(scoreGradient, Biases.Gradient.Span);
        if (!inputGradient.IsEmpty)
            Gemm.MultiplyTransposeB(scoreGradient, Weights.Value.AsReadOnlySpan(), inputGradient);
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
