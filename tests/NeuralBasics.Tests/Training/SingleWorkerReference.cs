using NeuralBasics.Data;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Training;

namespace NeuralBasics.Tests.Training;

/// <summary>
/// What a lone asynchronous worker does, written out by hand for the equivalence tests: its shard is
/// the whole set shuffled with the run's seed, reshuffled each epoch with the worker's own seed
/// (seed·7919), and each batch is one plain SGD step.
/// </summary>
internal static class SingleWorkerReference
{
    public static double[] SgdParameters(DataSet<double> data, IScoreFunction<double> start, double learningRate, int epochs, int batchSize, int seed)
    {
        var byHand = start.Clone();
        var step = new TrainingStep<double>(byHand, SoftmaxCrossEntropyLoss.Instance, null, new Sgd(learningRate));
        var shard = Enumerable.Range(0, data.Count).ToArray();
        new Random(seed).Shuffle(shard);
        var random = new Random(seed * 7919);
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            random.Shuffle(shard);
            for (int s = 0; s < shard.Length; s += batchSize)
            {
                int size = Math.Min(batchSize, shard.Length - s);
                var x = new Matrix<double>(size, data.FeatureCount);
                var y = new int[size];
                for (int r = 0; r < size; r++)
                {
                    data.Features.Row(shard[s + r]).CopyTo(x.Row(r));
                    y[r] = data.Labels[shard[s + r]];
                }
                step.Run(x, y);
            }
        }
        return [.. byHand.Parameters.SelectMany(p => p.Value.Span.ToArray())];
    }
}
