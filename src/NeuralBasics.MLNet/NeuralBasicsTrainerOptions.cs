using NeuralBasics.Activations;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Training;

namespace NeuralBasics.MLNet;

/// <summary>What <see cref="NeuralBasicsTrainer"/> trains and how.</summary>
public sealed record NeuralBasicsTrainerOptions
{
    /// <summary>The label column: a key type (from <c>MapValueToKey</c>), one key per class. Default "Label".</summary>
    public string LabelColumnName { get; init; } = "Label";

    /// <summary>The features column: a vector of float of known size. Default "Features".</summary>
    public string FeatureColumnName { get; init; } = "Features";

    /// <summary>
    /// Builds the network from the feature and class counts. Default: an MLP with one hidden layer of
    /// 256 ReLU units, the network ML.NET has no trainer for.
    /// </summary>
    public Func<int, int, IScoreFunction<float>> Network { get; init; } =
        (inputs, classes) => new NetworkBuilder<float>(inputs, seed: 1).Dense(256, new Relu()).Dense(classes).Build();

    /// <summary>The loss (default softmax cross-entropy, which gives probabilities).</summary>
    public ILoss Loss { get; init; } = SoftmaxCrossEntropyLoss.Instance;

    /// <summary>The regularizer on the weights (default L2, λ = 1e-5).</summary>
    public IRegularizer? Regularizer { get; init; } = new L2Regularization(1e-5);

    /// <summary>The update rule (default Adam, 1e-3).</summary>
    public UpdateChain Update { get; init; } = new Adam(1e-3);

    /// <summary>Epochs, batch size, seed and the rest (default 10 epochs of 128).</summary>
    public TrainerOptions Trainer { get; init; } = new() { Epochs = 10, BatchSize = 128, Seed = 1 };
}
