using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.ExceptionServices;

namespace NeuralBasics.Kernels;

/// <summary>
/// A small set of dedicated worker threads that run the parts of one kernel call side by side,
/// with the calling thread taking parts too. It exists instead of <c>Parallel.For</c> so that a
/// parallel kernel call allocates nothing: the work is a function pointer and a pointer to the
/// caller's state, and the threads wait on pre-allocated signals.
/// </summary>
/// <remarks>
/// <para>
/// Between calls the workers and the caller spin for up to <see cref="SpinMicroseconds"/> before
/// they block: a training step makes a parallel call every few tens of microseconds, and a thread
/// that has gone to sleep took 22–30 µs to wake on a 2-core AMD EPYC Zen 4 virtual machine (a
/// part of 50 µs then cost 86–98 µs instead of 51), once at the start of each call and once more
/// for the caller at its end. OpenMP runtimes (libtorch's among them) spin for the same reason, and
/// longer. The MLP 784-256-10 step went from 751–774 to 718–731 µs there (2 threads).
/// </para>
/// <para>
/// One call runs at a time. A call that arrives while the workers are busy (another thread is in
/// a parallel kernel, or a kernel is called from inside a part) runs all its parts on its own
/// thread, so nesting never deadlocks and never oversubscribes the cores.
/// </para>
/// </remarks>
internal static unsafe class KernelThreads
{
    private static readonly object s_startLock = new();
    private static readonly SemaphoreSlim s_wake = new(0);
    // The end of a call: the last participant sets s_done under s_doneLock and pulses it. Not a
    // ManualResetEventSlim: that allocates its lock object the first time a waiter blocks, and
    // with the spinning below that first time can come long after warm-up, inside a step that
    // must allocate nothing.
    private static readonly object s_doneLock = new();
    private static volatile bool s_done;
    private static Thread[]? s_workers;
    private static int s_busy;

    /// <summary>How long a worker waits for the next call, and the caller for the last part, before blocking.</summary>
    internal const int SpinMicroseconds = 100;

    private static readonly long s_spinTicks = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;

    // The current job. Written by the caller before the workers are woken, read by them after.
    private static delegate*<void*, int, void> s_body;
    private static void* s_state;
    private static int s_parts;
    private static int s_nextPart;
    private static int s_nextSlot;
    [ThreadStatic]
    private static int t_slot;
    private static int s_pendingParticipants;
    private static ExceptionDispatchInfo? s_failure;

    /// <summary>The most parts that can run at once: one per logical processor.</summary>
    public static int MaxParallelism { get; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>How many cores a kernel may use by default: every core, or <see cref="Gemm.DefaultMaxDegreeOfParallelism"/> when set.</summary>
    public static int DefaultParallelism =>
        Gemm.DefaultMaxDegreeOfParallelism is > 0 and var cap ? Math.Min(cap, MaxParallelism) : MaxParallelism;

    /// <summary>
    /// Which of the threads running the current call's parts this one is: 0 on the thread that made
    /// the call, 1, 2, … on the workers that joined it, always less than the call's
    /// <c>maxThreads</c> and its parts (and than <see cref="MaxParallelism"/>). A part that needs a
    /// buffer of its own takes the one of this index: parts that run one after another on a thread
    /// share it, parts that run at the same time never do. A call whose parts all run on its
    /// caller's thread (one part, a cap of one thread, a call nested in a part or made while the
    /// workers are busy) is slot 0 for them, so an index never exceeds the call's own threads, and
    /// the caller's own index comes back when it returns.
    /// </summary>
    public static int Slot => t_slot;

    /// <summary>
    /// Runs <paramref name="body"/>(<paramref name="state"/>, part) for every part in
    /// [0, <paramref name="parts"/>) and returns when all have finished, on at most
    /// <paramref name="maxThreads"/> threads (0: as many as there are parts and cores); the threads
    /// take the parts as they come free. <paramref name="state"/> must stay valid until then (the
    /// caller's stack is fine: the caller waits).
    /// </summary>
    public static void Run(delegate*<void*, int, void> body, void* state, int parts, int maxThreads = 0)
    {
        if (parts <= 1 || MaxParallelism == 1 || maxThreads == 1 || Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            // Alone on this thread, the parts are slot 0 of this call, whatever slot an outer call
            // gave the thread (a part of it may be what is calling here); that one comes back after.
            int outer = t_slot;
            t_slot = 0;
            try
            {
                for (int part = 0; part < parts; part++)
                    body(state, part);
            }
            finally
            {
                t_slot = outer;
            }
            return;
        }

        try
        {
            EnsureWorkers();
            int helpers = Math.Min(parts - 1, s_workers!.Length);
            if (maxThreads > 1)
                helpers = Math.Min(helpers, maxThreads - 1);
            s_body = body;
            s_state = state;
            s_parts = parts;
            s_nextPart = 0;
            s_nextSlot = 0;
            s_failure = null;
            s_pendingParticipants = helpers + 1;
            s_done = false;
            s_wake.Release(helpers);
            Participate(0);
            if (!SpinUntil(static () => s_done))
            {
                lock (s_doneLock)
                {
                    while (!s_done)
                        Monitor.Wait(s_doneLock);
                }
            }
            s_failure?.Throw();
        }
        finally
        {
            s_body = null;
            s_state = null;
            Volatile.Write(ref s_busy, 0);
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/>.RunPart(part, <paramref name="parts"/>) for every part and returns
    /// when all have finished: the managed object crosses to the workers through a GC handle, freed after.
    /// </summary>
    public static void Run(IKernelParts work, int parts)
    {
        var handle = GCHandle.Alloc(work);
        try
        {
            var job = new PartsJob { Work = GCHandle.ToIntPtr(handle), Parts = parts };
            Run(&RunParts, &job, parts);
        }
        finally
        {
            handle.Free();
        }
    }

    private struct PartsJob
    {
        public nint Work;
        public int Parts;
    }

    private static void RunParts(void* state, int part)
    {
        ref readonly PartsJob job = ref Unsafe.AsRef<PartsJob>(state);
        ((IKernelParts)GCHandle.FromIntPtr(job.Work).Target!).RunPart(part, job.Parts);
    }

    /// <summary>Takes parts until none is left, as participant <paramref name="slot"/> (<see cref="Slot"/>).</summary>
    private static void Participate(int slot)
    {
        t_slot = slot;
        try
        {
            int part;
            while ((part = Interlocked.Increment(ref s_nextPart) - 1) < s_parts)
                s_body(s_state, part);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref s_failure, ExceptionDispatchInfo.Capture(e), null);
        }
        finally
        {
            if (Interlocked.Decrement(ref s_pendingParticipants) == 0)
            {
                lock (s_doneLock)
                {
                    s_done = true;
                    Monitor.PulseAll(s_doneLock);
                }
            }
        }
    }

    private static void EnsureWorkers()
    {
        if (Volatile.Read(ref s_workers) is not null)
            return;
        lock (s_startLock)
        {
            if (s_workers is not null)
                return;
            var workers = new Thread[MaxParallelism - 1];
            for (int i = 0; i < workers.Length; i++)
            {
                workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"NeuralBasics kernel worker {i + 1}" };
                workers[i].Start();
            }
            Volatile.Write(ref s_workers, workers);
        }
    }

    private static void WorkerLoop()
    {
        while (true)
        {
            if (!SpinUntil(static () => s_wake.CurrentCount > 0 && s_wake.Wait(0)))
                s_wake.Wait();
            Participate(Interlocked.Increment(ref s_nextSlot));
        }
    }

    /// <summary>
    /// Spins until <paramref name="condition"/> holds (true) or <see cref="SpinMicroseconds"/> pass
    /// (false). <see cref="SpinWait"/> yields the core now and then once it has spun a little, so a
    /// spinning worker gives way to any other thread (or process) that is ready to run.
    /// </summary>
    private static bool SpinUntil(Func<bool> condition)
    {
        long until = Stopwatch.GetTimestamp() + s_spinTicks;
        var spinner = new SpinWait();
        while (!condition())
        {
            if (Stopwatch.GetTimestamp() >= until)
                return false;
            spinner.SpinOnce(sleep1Threshold: -1);
        }
        return true;
    }
}
