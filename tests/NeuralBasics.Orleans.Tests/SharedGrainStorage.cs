using System.Collections.Concurrent;
using Orleans.Storage;

namespace NeuralBasics.Orleans.Tests;

/// <summary>
/// Grain storage that outlives a silo: the test cluster's silos run in this process, so a static
/// dictionary plays the durable database that a real deployment has (Orleans' own memory storage
/// lives in a grain, which a stopped silo may take with it). States are kept by reference; the
/// grains never change a state object after writing it.
/// </summary>
internal sealed class SharedGrainStorage : IGrainStorage
{
    private static readonly ConcurrentDictionary<string, (object State, string ETag)> Records = new();

    public static int Writes;

    private static string Key(string stateName, GrainId grainId) => $"{stateName}/{grainId}";

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (Records.TryGetValue(Key(stateName, grainId), out var record))
        {
            grainState.State = (T)record.State;
            grainState.ETag = record.ETag;
            grainState.RecordExists = true;
        }
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        string etag = Guid.NewGuid().ToString("N");
        Records[Key(stateName, grainId)] = (grainState.State!, etag);
        grainState.ETag = etag;
        grainState.RecordExists = true;
        Interlocked.Increment(ref Writes);
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        Records.TryRemove(Key(stateName, grainId), out _);
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }
}
