using NeuralBasics.Kernels;

namespace NeuralBasics.Tests.Kernels;

/// <summary>
/// The kernel worker pool: a caller that has to block until a worker finishes the last part
/// (longer than the workers' and the caller's spin) returns only after it, and allocates nothing.
/// </summary>
[Collection(AllocationCollection.Name)]
public unsafe class KernelThreadsTests
{
    private static volatile int s_callerThread;
    private static volatile bool s_secondStarted, s_secondFinished;
    private static volatile int s_secondThread;

    [Fact]
    public void CallerBlockedOnASlowWorker_ReturnsAfterIt_AndAllocatesNothing()
    {
        if (KernelThreads.MaxParallelism == 1)
            return; // one core: no workers, nothing waits.
        s_callerThread = Environment.CurrentManagedThreadId;
        KernelThreads.Run(&Nothing, null, 2); // starts the workers (that allocates, once)
        // The pool may be busy with another test's kernel (then the call runs both parts here):
        // try until a worker took the slow part.
        for (int attempt = 0; attempt < 50; attempt++)
        {
            s_secondStarted = s_secondFinished = false;
            long before = GC.GetAllocatedBytesForCurrentThread();
            KernelThreads.Run(&Part, null, 2);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(s_secondFinished, "Run returned before its last part had finished");
            Assert.Equal(0, allocated);
            if (s_secondThread != s_callerThread)
                return;
        }
        Assert.Fail("No worker took a part in 50 calls.");
    }

    private static void Nothing(void* state, int part)
    {
    }

    private static void Part(void* state, int part)
    {
        if (part == 0)
        {
            // Let a worker take part 1 (up to 200 ms; a busy pool runs part 1 here afterwards).
            var until = DateTime.UtcNow.AddMilliseconds(200);
            while (!s_secondStarted && DateTime.UtcNow < until)
                Thread.SpinWait(100);
            return;
        }
        s_secondStarted = true;
        s_secondThread = Environment.CurrentManagedThreadId;
        if (s_secondThread != s_callerThread)
            Thread.Sleep(20); // far longer than KernelThreads.SpinMicroseconds: the caller must block.
        s_secondFinished = true;
    }
}
