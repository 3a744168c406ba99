using System.Numerics;
using NeuralBasics.Losses;
using NeuralBasics.Regularization;

namespace NeuralBasics.Training;

/// <summary>The gradient computed on the calling thread (its matrix products still use every core).</summary>
internal sealed class LocalGradient<T>(IScoreFunction<T> score, ILoss loss, IRegularizer? regularizer) : GradientComputation<T>(score, loss, regularizer)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private protected override T ComputeDataGradient(ReadOnlyMatrixSpan<T> inputs, ReadOnlySpan<int> labels, MatrixSpan<T> scores, MatrixSpan<T> dScores)
    {
        Score.Forward(inputs, scores);
        T loss = Loss.Compute(scores, labels, dScores);
        if (T.IsFinite(loss))
            Score.Backward(inputs, dScores, default);
        return loss;
    }
}
