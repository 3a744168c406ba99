namespace NeuralBasics.Training.Distributed;

/// <summary>What a parameter server does with a push computed on parameters older than its <see cref="StalenessBound"/>.</summary>
public enum StaleGradientHandling
{
    /// <summary>Refuse it: nothing changes and the reply says <see cref="ExchangeStatus.RejectedStale"/>.</summary>
    Reject,

    /// <summary>
    /// Apply it scaled by <c>k / s</c>, where s is its staleness and k the bound: the weight of a
    /// gradient falls as 1/s beyond the bound, as in staleness-aware asynchronous SGD (Zhang, Gupta,
    /// Lian and Liu, "Staleness-aware Async-SGD for Distributed Deep Learning", IJCAI 2016).
    /// </summary>
    Scale,
}
