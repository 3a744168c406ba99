namespace NeuralBasics.Training;

/// <summary>Where a distributed worker (NeuralBasics.Training.Distributed) stands: reported after each epoch, and returned at the end.</summary>
/// <param name="Worker">The worker's id.</param>
/// <param name="Epoch">Epochs completed.</param>
/// <param name="Steps">Gradients computed (mini-batches, or all-reduce rounds with rows of this worker's).</param>
/// <param name="Samples">Rows trained on.</param>
/// <param name="Loss">The mean data loss of the last epoch's batches (NaN before the first).</param>
/// <param name="Messages">Calls made to the shared state (fetches, pushes, exchanges, all-reduce rounds).</param>
/// <param name="BytesSent">Tensor bytes sent: as the transport counted them when it does (<see cref="Distributed.IExchangeMeter"/>: 16-bit messages, a ring's parts), else the model's size per message.</param>
/// <param name="BytesReceived">Tensor bytes received, counted the same way.</param>
/// <param name="Elapsed">Time since the worker started.</param>
/// <param name="Version">The shared parameters' version the worker last saw.</param>
/// <param name="Rejected">Messages the shared state did not apply (stale pushes, outdated exchanges).</param>
public sealed record WorkerReport(int Worker, int Epoch, long Steps, long Samples, double Loss, long Messages,
    long BytesSent, long BytesReceived, TimeSpan Elapsed, long Version, long Rejected)
{
    /// <summary>Rows per second over <see cref="Elapsed"/>.</summary>
    public double SamplesPerSecond => Elapsed > TimeSpan.Zero ? Samples / Elapsed.TotalSeconds : 0;

    /// <summary>Tensor bytes sent and received per gradient step.</summary>
    public double BytesPerStep => Steps > 0 ? (double)(BytesSent + BytesReceived) / Steps : 0;
}
