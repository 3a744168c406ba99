namespace NeuralBasics.Layers;

/// <summary>
/// A layer or network that behaves differently while training, as <see cref="Dropout{T}"/> does.
/// The gradient computation switches it on for its forward and backward passes and off again, so
/// prediction, evaluation and full-batch solvers see the deterministic inference behaviour.
/// </summary>
public interface ITrainingMode
{
    /// <summary>True while a training step runs (default false: inference).</summary>
    bool IsTraining { get; set; }
}
