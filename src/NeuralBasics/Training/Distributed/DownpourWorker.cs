using System.Numerics;
using System.Numerics.Tensors;
using NeuralBasics.Data;

namespace NeuralBasics.Training.Distributed;

/// <summary>
/// One Downpour SGD worker (Dean et al., "Large Scale Distributed Deep Networks", NIPS 2012): it
/// trains its own replica on its own rows, accumulates gradients, pushes them to a parameter
/// server every n_push steps and fetches the server's parameters every n_fetch steps. The same
/// worker runs as a thread of <see cref="DownpourTrainer{T}"/> or as a process of its own that
/// reaches the server over a network (NeuralBasics.Orleans).
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class DownpourWorker<T> : DistributedWorker<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>A worker training <paramref name="setup"/>'s score function (its replica, changed in place) against <paramref name="server"/>.</summary>
    /// <param name="setup">The replica, loss, regularizer and update chain; the chain's transforms run here, its rule on the server.</param>
    /// <param name="server">The parameter server.</param>
    /// <param name="worker">This worker's id: its messages' stamp and its shuffling seed.</param>
    /// <param name="options">Epochs, batch size, n_fetch, n_push and the seed; the defaults when null.</param>
    /// <exception cref="ArgumentException">A transform of the chain changes the parameters (<see cref="Optimizers.IGradientTransform.ChangesParameters"/>).</exception>
    public DownpourWorker(TrainingSetup<T> setup, IParameterServer<T> server, int worker, DownpourOptions? options = null)
        : base(setup, worker)
    {
        ArgumentNullException.ThrowIfNull(server);
        if (setup.Update.Transforms.FirstOrDefault(t => t.ChangesParameters) is { } changing)
            throw new ArgumentException(
                $"{changing} changes the parameters, which a Downpour worker only replicates: it must run where the rule runs, on the server. " +
                "Give the server a rule that includes it (AdamW for decoupled weight decay with Adam), or train with elastic averaging.", nameof(setup));
        Server = server;
        Options = options ?? new DownpourOptions();
    }

    /// <summary>The parameter server.</summary>
    public IParameterServer<T> Server { get; }

    /// <summary>The run's settings.</summary>
    public DownpourOptions Options { get; }

    /// <summary>Trains on the given <paramref name="rows"/> of <paramref name="data"/> (its shard).</summary>
    /// <exception cref="ArgumentException">The data does not fit the replica, or the shard is empty.</exception>
    /// <exception cref="TrainingDivergedException">A gradient was not finite: nothing of that batch was pushed.</exception>
    public override async Task<WorkerReport> RunAsync(DataSet<T> data, ReadOnlyMemory<int> rows, IProgress<WorkerReport>? progress = null,
        CancellationToken cancellationToken = default)
    {
        WorkerChecks.Data(data, rows, Setup.Score);
        var parameters = Setup.Score.Parameters;
        var gradient = GradientComputation<T>.Create(Setup.Score, Setup.Loss, Setup.Regularizer);
        var transforms = new ChainApplication<T>(parameters, Setup.Update, withRule: false);
        var batches = new ShardBatches<T>(data, rows.Span, Options.BatchSize, Options.Seed, Worker);
        var accumulated = parameters.Select(p => new T[p.Value.Memory.Length]).ToArray();
        ReadOnlyMemory<T>[] pushes = [.. accumulated.Select(a => (ReadOnlyMemory<T>)a)];
        Memory<T>[] fetches = [.. parameters.Select(p => p.Value.Memory)];
        var meter = new WorkerMeter<T>(Worker, Setup.Score, Server);
        var fetchStamp = FirstStamp();
        var pushStamp = FirstStamp();
        int pending = 0;
        // Overlapped exchanges (Options.Overlap): the push in flight reads `sending`, the fetch in flight writes `landing`.
        var sending = Options.Overlap ? parameters.Select(p => new T[p.Value.Memory.Length]).ToArray() : [];
        var landing = Options.Overlap ? parameters.Select(p => new T[p.Value.Memory.Length]).ToArray() : [];
        ReadOnlyMemory<T>[] sends = [.. sending.Select(a => (ReadOnlyMemory<T>)a)];
        Memory<T>[] lands = [.. landing.Select(a => (Memory<T>)a)];
        Task<ExchangeReply>? pushInFlight = null;
        Task<long>? fetchInFlight = null;

        await FetchNow().ConfigureAwait(false);
        for (int epoch = 1; epoch <= Options.Epochs; epoch++)
        {
            batches.StartEpoch();
            for (int start = 0, batch = 1; start < batches.RowCount; start += batches.BatchSize, batch++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (fetchInFlight is { IsCompleted: true })
                    await Land().ConfigureAwait(false);
                int size = batches.Gather(start, out var x, out var y);
                T loss = gradient.Compute(x, y.AsSpan());
                if (!T.IsFinite(loss))
                    throw new TrainingDivergedException(
                        $"Downpour worker {Worker} diverged in epoch {epoch}, batch {batch}: {gradient.LastProblem}.",
                        new TrainingHistory(), epoch, batch, gradient.LastProblem!);
                transforms.RunTransforms(gradient.LastGradientNorm);
                for (int k = 0; k < parameters.Count; k++)
                    TensorPrimitives.Add(accumulated[k], parameters[k].Gradient.Span, accumulated[k]);
                meter.Batch(loss, size);
                if (++pending == Options.PushEvery)
                    await Push().ConfigureAwait(false);
                if (meter.Steps % Options.FetchEvery == 0)
                    await Fetch().ConfigureAwait(false);
            }
            if (fetchInFlight is { IsCompleted: true })
                await Land().ConfigureAwait(false);
            var epochReport = meter.EndEpoch();
            progress?.Report(epochReport);
        }
        if (pending > 0)
            await Push().ConfigureAwait(false);
        await FinishPush().ConfigureAwait(false);
        if (fetchInFlight is not null)
            await Land().ConfigureAwait(false);
        return meter.Report();

        async Task Fetch()
        {
            if (!Options.Overlap)
            {
                await FetchNow().ConfigureAwait(false);
                return;
            }
            if (fetchInFlight is not null)
                await Land().ConfigureAwait(false);
            meter.Sent(tensors: false);
            fetchInFlight = Server.FetchAsync(fetchStamp, lands, cancellationToken).AsTask();
            fetchStamp = fetchStamp.Next();
        }

        async Task FetchNow()
        {
            if (fetchInFlight is not null)
                await Land().ConfigureAwait(false);
            meter.Sent(tensors: false);
            meter.Version = await Server.FetchAsync(fetchStamp, fetches, cancellationToken).ConfigureAwait(false);
            meter.Received();
            fetchStamp = fetchStamp.Next();
        }

        // The fetch in flight has arrived (or is awaited): its parameters become the replica's.
        async Task Land()
        {
            long version = await fetchInFlight!.ConfigureAwait(false);
            fetchInFlight = null;
            for (int k = 0; k < landing.Length; k++)
                landing[k].CopyTo(fetches[k]);
            meter.Version = version;
            meter.Received();
        }

        async Task Push()
        {
            meter.Sent();
            if (!Options.Overlap)
            {
                var reply = await Server.PushAsync(pushStamp, meter.Version, pushes, cancellationToken).ConfigureAwait(false);
                pushStamp = pushStamp.Next();
                foreach (var a in accumulated)
                    Array.Clear(a);
                pending = 0;
                await Replied(reply).ConfigureAwait(false);
                return;
            }
            await FinishPush().ConfigureAwait(false);
            for (int k = 0; k < accumulated.Length; k++)
            {
                accumulated[k].CopyTo(sending[k], 0);
                Array.Clear(accumulated[k]);
            }
            pending = 0;
            pushInFlight = Server.PushAsync(pushStamp, meter.Version, sends, cancellationToken).AsTask();
            pushStamp = pushStamp.Next();
            // A server that answered at once (in process): handle its reply now, as without overlap.
            if (pushInFlight.IsCompleted)
                await FinishPush().ConfigureAwait(false);
        }

        async Task FinishPush()
        {
            if (pushInFlight is null)
                return;
            var reply = await pushInFlight.ConfigureAwait(false);
            pushInFlight = null;
            await Replied(reply).ConfigureAwait(false);
        }

        async Task Replied(ExchangeReply reply)
        {
            if (Check(reply).Status == ExchangeStatus.RejectedStale)
            {
                // Too far behind: catch up before computing more gradients on old parameters.
                meter.Rejected++;
                await FetchNow().ConfigureAwait(false);
            }
        }
    }
}
