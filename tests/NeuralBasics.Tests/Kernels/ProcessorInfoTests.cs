using NeuralBasics.Kernels;

namespace NeuralBasics.Tests.Kernels;

/// <summary>Cache sizes read from a Linux-style folder, and the GEMM blocking derived from them.</summary>
public sealed class ProcessorInfoTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("neuralbasics-cache-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private void Index(int index, string level, string type, string size)
    {
        string path = Path.Combine(_folder, $"index{index}");
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, "level"), level + "\n");
        File.WriteAllText(Path.Combine(path, "type"), type + "\n");
        File.WriteAllText(Path.Combine(path, "size"), size + "\n");
    }

    [Fact]
    public void ReadsTheDataCaches_AndSkipsTheInstructionCache()
    {
        // As an Intel Xeon (Sapphire Rapids) VM shows them.
        Index(0, "1", "Data", "48K");
        Index(1, "1", "Instruction", "32K");
        Index(2, "2", "Unified", "2048K");
        Index(3, "3", "Unified", "107520K");
        Assert.Equal(new CacheSizes(48 * 1024, 2 * 1024 * 1024, 105L * 1024 * 1024, Measured: true), CacheSizes.Read(_folder));
    }

    [Fact]
    public void AFolderWithoutL1OrL2_OrMissing_GivesNull()
    {
        Assert.Null(CacheSizes.Read(Path.Combine(_folder, "absent")));
        Index(0, "1", "Instruction", "32K");
        Index(1, "3", "Unified", "32M");
        Assert.Null(CacheSizes.Read(_folder));
        Index(2, "1", "Data", "not a size");
        Index(3, "2", "Unified", "1M");
        Assert.Null(CacheSizes.Read(_folder));
    }

    /// <summary>CPUID leaf 0x8000001D as an AMD EPYC Zen 3 core reports it (each field stored minus one).</summary>
    [Fact]
    public void ReadsCpuidCacheLeaves()
    {
        static (int, int, int) Leaf(int type, int level, int ways, int line, int sets) =>
            (type | level << 5, (ways - 1) << 22 | (line - 1), sets - 1);
        var zen3 = new[]
        {
            Leaf(1, 1, 8, 64, 64),       // L1d 32 KiB
            Leaf(2, 1, 8, 64, 64),       // L1i 32 KiB: skipped
            Leaf(3, 2, 8, 64, 1024),     // L2 512 KiB
            Leaf(3, 3, 16, 64, 32768),   // L3 32 MiB
        };
        Assert.Equal(new CacheSizes(32 * 1024, 512 * 1024, 32L * 1024 * 1024, Measured: true), CacheSizes.FromCacheLeaves(zen3));
        Assert.Null(CacheSizes.FromCacheLeaves(zen3.Where(l => (l.Item1 >> 5) != 2)));
    }

    /// <summary>
    /// The legacy leaves as a Firecracker VM on an AMD EPYC Zen 5 reports them (its leaf 0x8000001D
    /// is empty): ECX of 0x80000005 and 0x80000006.
    /// </summary>
    [Fact]
    public void ReadsTheLegacyLeaves_WhenTheCacheLeavesAreEmpty()
    {
        Assert.Equal(new CacheSizes(48 * 1024, 1024 * 1024, CacheSizes.Default.L3, Measured: true), CacheSizes.FromLegacyLeaves(0x300c0140, 0x04006140));
        Assert.Equal(new CacheSizes(CacheSizes.Default.L1Data, 2048 * 1024, CacheSizes.Default.L3, Measured: true), CacheSizes.FromLegacyLeaves(0, 0x08006040));
        Assert.Null(CacheSizes.FromLegacyLeaves(0x300c0140, 0));
    }

    [Fact]
    public void OnX64_CpuidDescribesTheCaches()
    {
        var caches = CacheSizes.ReadCpuid();
        if (!System.Runtime.Intrinsics.X86.X86Base.IsSupported)
        {
            Assert.Null(caches);
            return;
        }
        if (caches is null)
        {
            // Only a processor (or hypervisor) that describes no L2 in any leaf gives none.
            Assert.True((uint)System.Runtime.Intrinsics.X86.X86Base.CpuId(unchecked((int)0x80000000), 0).Eax < 0x80000006
                || (System.Runtime.Intrinsics.X86.X86Base.CpuId(unchecked((int)0x80000006), 0).Ecx >> 16) == 0);
            return;
        }
        Assert.InRange(caches.L1Data, 16 * 1024, 256 * 1024);
        Assert.InRange(caches.L2, 256 * 1024, 64 * 1024 * 1024);
    }

    [Theory]
    [InlineData("32K", 32L * 1024)]
    [InlineData("1024K", 1024L * 1024)]
    [InlineData("2M", 2L * 1024 * 1024)]
    [InlineData("65536", 65536L)]
    [InlineData("0K", null)]
    [InlineData("-4K", null)]
    [InlineData("K", null)]
    [InlineData("", null)]
    [InlineData("99999999999G", null)]
    public void ParsesSizes(string text, long? expected) => Assert.Equal(expected, CacheSizes.ParseSize(text));

    /// <summary>
    /// The AVX-512 float blocking on three processors: an AMD EPYC Zen 4 core (32 KiB L1d, 1 MiB
    /// L2), a Zen 5 core (48 KiB L1d) and an Intel Xeon Sapphire Rapids core (48 KiB, 2 MiB L2). KC,
    /// which sets the order of additions, is the same on all three, so are the results.
    /// </summary>
    [Theory]
    [InlineData(32, 1024, 32, 256, 252, 4096)]
    [InlineData(48, 1024, 32, 256, 252, 4096)]
    [InlineData(48, 2048, 105, 256, 504, 13440)]
    public void Blocking_FollowsTheCaches(int l1KiB, int l2KiB, int l3MiB, int kc, int mc, int nc)
    {
        var caches = new CacheSizes(l1KiB * 1024, l2KiB * 1024, l3MiB * 1024L * 1024, Measured: true);
        var blocking = GemmKernelDescription<float>.For(GemmKernel.Vector512x12).BlockingFor(caches);
        Assert.Equal((12, 32, kc, mc, nc), (blocking.MR, blocking.NR, blocking.KC, blocking.MC, blocking.NC));
        // The packed panels fit the levels they are meant for.
        Assert.True(blocking.KC * blocking.NR * sizeof(float) <= l1KiB * 1024);
        Assert.True(blocking.MC * blocking.KC * sizeof(float) <= l2KiB * 1024 / 4);
        Assert.True((long)blocking.KC * blocking.NC * sizeof(float) <= l3MiB * 1024L * 1024 / 8);
    }

    /// <summary>
    /// The AVX2 float blocking (6 x 16 tile) on an AMD EPYC Zen 3 core (32 KiB L1d, 512 KiB L2,
    /// 32 MiB L3) and a Zen 5 core: the B micro-panel is half of a 32 KiB L1, so the A micro-panel
    /// fits beside it, and MC keeps 126 rows of a 512 KiB L2 (BLIS's Zen 3 configuration: KC 256,
    /// MC 144). KC is the same on both.
    /// </summary>
    [Theory]
    [InlineData(32, 512, 32, 256, 126, 4096)]
    [InlineData(48, 1024, 32, 256, 252, 4096)]
    public void Avx2Blocking_LeavesRoomForTheAPanel(int l1KiB, int l2KiB, int l3MiB, int kc, int mc, int nc)
    {
        var caches = new CacheSizes(l1KiB * 1024, l2KiB * 1024, l3MiB * 1024L * 1024, Measured: true);
        var blocking = GemmKernelDescription<float>.For(GemmKernel.Vector256x6).BlockingFor(caches);
        Assert.Equal((6, 16, kc, mc, nc), (blocking.MR, blocking.NR, blocking.KC, blocking.MC, blocking.NC));
        Assert.True((blocking.KC * blocking.NR + blocking.MR * blocking.KC) * sizeof(float) <= 32 * 1024 * 3 / 4);
    }

    [Fact]
    public void Describe_NamesTheModelAndCaches()
    {
        string line = ProcessorInfo.Describe();
        Assert.Contains(ProcessorInfo.Model, line);
        Assert.Contains("L1d", line);
        Assert.True(ProcessorInfo.L1DataCacheBytes > 0 && ProcessorInfo.L2CacheBytes > 0);
    }
}
