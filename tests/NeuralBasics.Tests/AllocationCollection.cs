namespace NeuralBasics.Tests;

/// <summary>
/// Tests that measure allocations of a warm call run alone, after the parallel tests: when another
/// test holds the kernel worker threads, a parallel product runs its parts on the calling thread,
/// and the first such call may grow that thread's packing buffers once. That is a one-time cost of
/// contention, not the steady state these tests pin down.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationCollection
{
    public const string Name = "Allocation measurements";
}
