using System.Numerics;
using System.Numerics.Tensors;
using NeuralBasics.Components;

namespace NeuralBasics.Optimizers;

/// <summary>
/// Decoupled weight decay (Loshchilov and Hutter 2019, "Decoupled Weight Decay Regularization"):
/// before the rule's step, every weight (never a bias) shrinks by <c>w ← w·(1 − lr·λ)</c>, with the
/// rule's learning rate of that step. Unlike L2 regularization it is not part of the gradient, so an
/// adaptive rule does not rescale it. <c>new UpdateChain([new DecoupledWeightDecay(λ)], new Adam(lr))</c>
/// is AdamW (<see cref="AdamW"/>, with the same bits); with <see cref="Sgd"/> it is SGDW.
/// </summary>
public sealed record DecoupledWeightDecay : IGradientTransform, IDescribedComponent
{
    /// <summary>Decay by <paramref name="weightDecay"/> λ per unit of learning rate.</summary>
    /// <exception cref="ArgumentOutOfRangeException">λ is negative, NaN or infinite.</exception>
    public DecoupledWeightDecay(double weightDecay) =>
        WeightDecay = weightDecay >= 0 && double.IsFinite(weightDecay) ? weightDecay
            : throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "The weight decay λ must be 0 or more and finite.");

    /// <summary>λ.</summary>
    public double WeightDecay { get; }

    /// <summary>True: it changes the weights, so it runs where the rule runs.</summary>
    public bool ChangesParameters => true;

    string IDescribedComponent.Kind => "decoupled_weight_decay";

    void IDescribedComponent.Describe(ComponentDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        description.Set("weight_decay", WeightDecay);
    }

    /// <summary>Not possible without the rule's learning rate: run it in an <see cref="UpdateChain"/>.</summary>
    /// <exception cref="InvalidOperationException">Always.</exception>
    public void Apply<T>(IReadOnlyList<Parameter<T>> parameters, double globalNorm)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        throw new InvalidOperationException("Decoupled weight decay needs the rule's learning rate of the step: put it in an UpdateChain before the rule.");

    /// <summary>Shrinks every weight tensor by <c>1 − lr_k·λ</c>.</summary>
    public void Apply<T>(TransformStep<T> step)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(step);
        for (int k = 0; k < step.Parameters.Count; k++)
        {
            var p = step.Parameters[k];
            if (p.IsRegularized)
                Decay(p.Value.Span, step.LearningRate(k), WeightDecay);
        }
    }

    /// <summary><c>w ← w·(1 − lr·λ)</c>, the factor rounded to T once, as AdamW always did.</summary>
    internal static void Decay<T>(Span<T> weights, double learningRate, double weightDecay)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (double.IsNaN(learningRate))
            throw new InvalidOperationException("Decoupled weight decay needs the rule's learning rate, which is not known here (the rule runs elsewhere).");
        double keep = 1 - learningRate * weightDecay;
        if (keep != 1)
            TensorPrimitives.Multiply(weights, T.CreateChecked(keep), weights);
    }
}
