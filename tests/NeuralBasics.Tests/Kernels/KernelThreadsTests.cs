using NeuralBasics.Kernels;

namespace NeuralBasics.Tests.Kernels;

/// <summary>
/// The kernel worker pool: a caller that has to block until a worker finishes the last part
/// (longer than the workers' and the caller's spin) returns only after it, and allocates nothing;
/// the threads of a call have slots of their own, below its cap on threads.
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

    private static int[] s_slotBusy = [], s_slotThread = [];
    private static int s_overlaps, s_tooHigh, s_moved, s_callerNotZero, s_maxThreads;

    [Theory]
    [InlineData(64, 0)]
    [InlineData(64, 2)]
    [InlineData(3, 0)]
    public void Slots_AreNeverSharedByPartsRunningAtOnce_AndStayWithinTheCall(int parts, int maxThreads)
    {
        int most = Math.Min(parts, maxThreads > 0 ? Math.Min(maxThreads, KernelThreads.MaxParallelism) : KernelThreads.MaxParallelism);
        s_maxThreads = most;
        for (int call = 0; call < 20; call++)
        {
            s_slotBusy = new int[KernelThreads.MaxParallelism];
            s_slotThread = new int[KernelThreads.MaxParallelism];
            s_overlaps = s_tooHigh = s_moved = s_callerNotZero = 0;
            s_callerThread = Environment.CurrentManagedThreadId;
            KernelThreads.Run(&SlotPart, null, parts, maxThreads);
            Assert.Equal(0, s_tooHigh);
            Assert.Equal(0, s_overlaps);
            Assert.Equal(0, s_moved);
            Assert.Equal(0, s_callerNotZero);
            Assert.Equal(0, KernelThreads.Slot);
        }
    }

    private static void SlotPart(void* state, int part)
    {
        int slot = KernelThreads.Slot, thread = Environment.CurrentManagedThreadId;
        if (slot < 0 || slot >= s_maxThreads)
        {
            Interlocked.Increment(ref s_tooHigh);
            return;
        }
        if (thread == s_callerThread && slot != 0)
            Interlocked.Increment(ref s_callerNotZero);
        // One thread per slot in a call, and never two parts in one slot at once.
        int owner = Interlocked.CompareExchange(ref s_slotThread[slot], thread, 0);
        if (owner != 0 && owner != thread)
            Interlocked.Increment(ref s_moved);
        if (Interlocked.Exchange(ref s_slotBusy[slot], 1) != 0)
            Interlocked.Increment(ref s_overlaps);
        Thread.SpinWait(2000);
        Volatile.Write(ref s_slotBusy[slot], 0);
    }

    private static int s_nestedNotZero, s_notRestored;

    /// <summary>
    /// A call made from inside a part runs its parts on that thread, as slot 0 of its own (a part's
    /// buffers sized for the call's threads stay in range), and the part's own slot comes back after.
    /// </summary>
    [Fact]
    public void ANestedCall_IsSlotZeroForItsParts_AndGivesTheOuterSlotBack()
    {
        for (int call = 0; call < 20; call++)
        {
            s_nestedNotZero = s_notRestored = 0;
            KernelThreads.Run(&OuterPart, null, 8);
            Assert.Equal(0, s_nestedNotZero);
            Assert.Equal(0, s_notRestored);
        }
    }

    private static void OuterPart(void* state, int part)
    {
        int slot = KernelThreads.Slot;
        KernelThreads.Run(&InnerPart, null, 3);
        if (KernelThreads.Slot != slot)
            Interlocked.Increment(ref s_notRestored);
        Thread.SpinWait(1000);
    }

    private static void InnerPart(void* state, int part)
    {
        if (KernelThreads.Slot != 0)
            Interlocked.Increment(ref s_nestedNotZero);
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
