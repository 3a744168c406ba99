using System.Diagnostics;
using System.Numerics;
using NeuralBasics.Data;
using NeuralBasics.Training;

namespace NeuralBasics.Selection;

/// <summary>
/// Random and grid search over hyperparameters, trials trained in parallel with seeds derived per
/// trial, poor trials stopped early, and the results sorted by validation score. CS231n's advice
/// in code: search learning rates and λ on a log scale, coarse to fine, on a validation set.
/// </summary>
/// <remarks>
/// The search hands each <see cref="Trial"/> (its values and its seed) to <c>build</c>, which returns
/// the <see cref="Trainer{T}"/> to run (its network seeded with <see cref="Trial.Seed"/>, its rule
/// and options from the values); every trial trains on <c>training</c> and is scored on
/// <c>validation</c>. Trials run in waves of <see cref="SearchOptions.WaveSize"/>, each wave's
/// trials in parallel; from <see cref="SearchOptions.PruneFromEpoch"/> on, a trial whose validation
/// loss is above the median of the earlier waves' trials at the same epoch is stopped (Optuna's
/// median pruner, made deterministic by looking only at finished waves). With the same seed the
/// values, the seeds, the pruning and the results are the same on any number of cores.
/// </remarks>
public static class HyperparameterSearch
{
    /// <summary>A random search: <see cref="SearchOptions.Trials"/> configurations drawn from the space.</summary>
    public static SearchResult Random<T>(IReadOnlyList<Hyperparameter> space, Func<Trial, Trainer<T>> build, DataSet<T> training, DataSet<T> validation,
        SearchOptions? options = null, IProgress<TrialResult>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        options ??= new SearchOptions();
        Check(space);
        var random = new Random(options.Seed);
        var trials = Enumerable.Range(0, options.Trials)
            .Select(i => new Trial(i, TrialSeed(options.Seed, i), space.ToDictionary(h => h.Name, h => h.Sample(random)))).ToList();
        return Run(trials, build, training, validation, options, progress, cancellationToken);
    }

    /// <summary>A grid search: every combination of the choices and of <see cref="SearchOptions.GridPoints"/> values per range.</summary>
    public static SearchResult Grid<T>(IReadOnlyList<Hyperparameter> space, Func<Trial, Trainer<T>> build, DataSet<T> training, DataSet<T> validation,
        SearchOptions? options = null, IProgress<TrialResult>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        options ??= new SearchOptions();
        Check(space);
        IEnumerable<Dictionary<string, double>> combinations = [[]];
        foreach (var h in space)
            combinations = combinations.SelectMany(c => h.Grid(options.GridPoints).Select(v => new Dictionary<string, double>(c) { [h.Name] = v }));
        var trials = combinations.Select((values, i) => new Trial(i, TrialSeed(options.Seed, i), values)).ToList();
        return Run(trials, build, training, validation, options, progress, cancellationToken);
    }

    private static void Check(IReadOnlyList<Hyperparameter> space)
    {
        ArgumentNullException.ThrowIfNull(space);
        if (space.Count == 0)
            throw new ArgumentException("The search space has no hyperparameters.", nameof(space));
        if (space.Select(h => h.Name).Distinct(StringComparer.Ordinal).Count() != space.Count)
            throw new ArgumentException("Two hyperparameters share a name.", nameof(space));
    }

    /// <summary>A trial's seed from the search's seed and its number (SplitMix64), independent of the order trials run in.</summary>
    private static int TrialSeed(int seed, int trial)
    {
        ulong z = unchecked((ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)trial + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) & int.MaxValue);
    }

    private static SearchResult Run<T>(List<Trial> trials, Func<Trial, Trainer<T>> build, DataSet<T> training, DataSet<T> validation,
        SearchOptions options, IProgress<TrialResult>? progress, CancellationToken cancellationToken)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(build);
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(validation);
        var results = new TrialResult[trials.Count];
        // Validation losses of finished waves' trials, by epoch: what pruning compares with.
        var finished = new Dictionary<int, List<double>>();
        int parallelism = options.Parallelism > 0 ? options.Parallelism : Environment.ProcessorCount;
        for (int start = 0; start < trials.Count; start += options.WaveSize)
        {
            var wave = trials.Skip(start).Take(options.WaveSize).ToList();
            var medians = finished.Where(f => f.Value.Count >= 2).ToDictionary(f => f.Key, f => Median(f.Value));
            var waveResults = new (TrialResult Result, List<double> Losses)[wave.Count];
            Parallel.For(0, wave.Count, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
                w => waveResults[w] = RunTrial(wave[w], build, training, validation, options, medians, cancellationToken));
            for (int w = 0; w < wave.Count; w++)
            {
                results[wave[w].Number] = waveResults[w].Result;
                for (int e = 0; e < waveResults[w].Losses.Count; e++)
                {
                    if (!finished.TryGetValue(e + 1, out var list))
                        finished[e + 1] = list = [];
                    list.Add(waveResults[w].Losses[e]);
                }
                progress?.Report(waveResults[w].Result);
            }
        }
        return new SearchResult(results);
    }

    private static (TrialResult, List<double>) RunTrial<T>(Trial trial, Func<Trial, Trainer<T>> build, DataSet<T> training, DataSet<T> validation,
        SearchOptions options, Dictionary<int, double> medians, CancellationToken cancellationToken)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var trainer = build(trial) ?? throw new InvalidOperationException($"The build function returned no trainer for trial {trial.Number}.");
        var losses = new List<double>();
        EpochResult? last = null;
        bool pruned = false;
        using var prune = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watch = Stopwatch.StartNew();
        try
        {
            trainer.Train(training, validation, new Reporter(result =>
            {
                last = result;
                losses.Add(result.ValidationLoss ?? double.NaN);
                if (options.Prune && result.Epoch >= options.PruneFromEpoch && medians.TryGetValue(result.Epoch, out double median)
                    && !(result.ValidationLoss <= median) && result.Epoch < trainer.Options.Epochs)
                {
                    pruned = true;
                    prune.Cancel();
                }
            }), cancellationToken: prune.Token);
        }
        catch (OperationCanceledException) when (pruned && !cancellationToken.IsCancellationRequested)
        {
        }
        catch (TrainingDivergedException)
        {
            // A diverged configuration is a bad one, not a failed search: scored below.
        }
        // No epoch finished (diverged in the first): an infinite loss and no accuracy.
        last ??= new EpochResult(0, double.PositiveInfinity, 0, 0, 0, ValidationLoss: double.PositiveInfinity);
        return (new TrialResult(trial, last.ValidationAccuracy ?? 0, last.ValidationLoss ?? double.PositiveInfinity, last.Epoch, pruned,
            watch.Elapsed.TotalSeconds), losses);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        int n = sorted.Count;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /// <summary>Reports on the training thread as each epoch ends (Progress&lt;T&gt; would post elsewhere, too late to prune).</summary>
    private sealed class Reporter(Action<EpochResult> report) : IProgress<EpochResult>
    {
        public void Report(EpochResult value) => report(value);
    }
}
