using System.Globalization;
using System.Runtime.InteropServices;

namespace NeuralBasics.Kernels;

/// <summary>
/// The processor the kernels run on, as far as the operating system tells: its model and the
/// sizes of its data caches, read once at start. <see cref="Gemm"/> derives its cache blocking from
/// these sizes rather than from constants tuned on one machine; benchmarks print
/// <see cref="Describe"/> beside their figures.
/// </summary>
/// <remarks>
/// On Linux the caches come from <c>/sys/devices/system/cpu/cpu0/cache</c> and the model from
/// <c>/proc/cpuinfo</c>. Where that folder is missing (some virtual machines have none) or on other
/// systems, an x64 processor is asked directly (CPUID's cache-description leaves, managed code
/// through <see cref="System.Runtime.Intrinsics.X86.X86Base.CpuId"/>). When neither answers, the
/// sizes are the defaults below (a common server core, for which the blocking equals the constants
/// it replaced) and <see cref="CacheSizesAreMeasured"/> is false.
/// </remarks>
public static class ProcessorInfo
{
    private static readonly CacheSizes s_caches =
        CacheSizes.Read("/sys/devices/system/cpu/cpu0/cache") ?? CacheSizes.ReadCpuid() ?? CacheSizes.Default;

    /// <summary>The level-1 data cache of one core, in bytes (default 32 KiB).</summary>
    public static int L1DataCacheBytes => s_caches.L1Data;

    /// <summary>The level-2 cache of one core, in bytes (default 1 MiB).</summary>
    public static int L2CacheBytes => s_caches.L2;

    /// <summary>The level-3 cache the first core shares, in bytes (default 32 MiB; 0 when there is none).</summary>
    public static long L3CacheBytes => s_caches.L3;

    /// <summary>True when the cache sizes were read from the operating system, false when they are the defaults.</summary>
    public static bool CacheSizesAreMeasured => s_caches.Measured;

    /// <summary>The processor's model name, with its vendor, family and model numbers where the operating system gives them.</summary>
    public static string Model { get; } = ReadModel() ?? RuntimeInformation.ProcessArchitecture.ToString();

    internal static CacheSizes Caches => s_caches;

    /// <summary>
    /// A warning when this process runs narrower vector code than the processor offers — 128-bit
    /// kernels on an x64 with AVX2 and FMA, about a quarter of the speed: a Native AOT build for the
    /// default instruction set, or <c>DOTNET_EnableAVX2=0</c> — else null. Written once to
    /// <see cref="System.Diagnostics.Trace"/> when the kernels start, and shown by <see cref="Describe"/>.
    /// </summary>
    public static string? VectorWarning { get; } = ReadVectorWarning();

    private static string? ReadVectorWarning()
    {
        if (!System.Runtime.Intrinsics.X86.X86Base.IsSupported || System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
            return null;
        if (System.Runtime.Intrinsics.X86.X86Base.CpuId(0, 0).Eax < 7)
            return null;
        int features = System.Runtime.Intrinsics.X86.X86Base.CpuId(1, 0).Ecx;
        bool osSavesVectors = (features & (1 << 27)) != 0, avx = (features & (1 << 28)) != 0, fma = (features & (1 << 12)) != 0;
        bool avx2 = (System.Runtime.Intrinsics.X86.X86Base.CpuId(7, 0).Ebx & (1 << 5)) != 0;
        return osSavesVectors && avx && fma && avx2
            ? "This processor has AVX2 and FMA but the process runs NeuralBasics' 128-bit kernels, about a quarter of their speed: " +
              "a Native AOT build for the default instruction set (publish with IlcInstructionSet=x86-64-v3 or native; the NeuralBasics " +
              "package sets x86-64-v3 unless NeuralBasicsKeepAotBaseline is true), or DOTNET_EnableAVX2=0."
            : null;
    }

    /// <summary>One line for a benchmark's header: model, core count, caches, the widest vector the kernels use and the float GEMM kernel with its blocking.</summary>
    public static string Describe() =>
        $"{Model}; {Environment.ProcessorCount} logical cores; L1d {Size(L1DataCacheBytes)}, L2 {Size(L2CacheBytes)}, L3 {Size(L3CacheBytes)}" +
        (CacheSizesAreMeasured ? "" : " (defaults: not read from the OS)") +
        $"; vectors {GemmKernelDescription<float>.Best.VectorBits} bits" +
        $"; float GEMM {Kernel(GemmKernelDescription<float>.Best)}" +
        (VectorWarning is { } warning ? $"; WARNING: {warning}" : "");

    private static string Kernel<T>(GemmKernelDescription<T> kernel)
        where T : unmanaged, System.Numerics.INumber<T>
        => $"{kernel.Name} (KC {kernel.Blocking.KC}, MC {kernel.Blocking.MC}, NC {kernel.Blocking.NC})";

    private static string Size(long bytes) =>
        bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? $"{bytes >> 20} MiB" : $"{bytes >> 10} KiB";

    /// <summary>"AMD EPYC (AuthenticAMD family 25 model 17)" from /proc/cpuinfo, or null.</summary>
    private static string? ReadModel()
    {
        try
        {
            if (!File.Exists("/proc/cpuinfo"))
                return null;
            string? name = null, vendor = null, family = null, model = null;
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.Length == 0)
                    break; // the first processor is enough
                int colon = line.IndexOf(':');
                if (colon < 0)
                    continue;
                string key = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
                switch (key)
                {
                    case "model name": name = value; break;
                    case "vendor_id": vendor = value; break;
                    case "cpu family": family = value; break;
                    case "model": model = value; break;
                }
            }
            if (name is null)
                return null;
            return vendor is null ? name : $"{name} ({vendor} family {family} model {model})";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>Data cache sizes in bytes: level 1 (data), level 2 and level 3 as seen by one core.</summary>
internal sealed record CacheSizes(int L1Data, int L2, long L3, bool Measured)
{
    /// <summary>What the blocking assumes when the operating system does not say: 32 KiB L1d, 1 MiB L2, 32 MiB L3.</summary>
    public static CacheSizes Default { get; } = new(32 * 1024, 1024 * 1024, 32L * 1024 * 1024, Measured: false);

    /// <summary>
    /// Reads a Linux cache folder (<c>index0</c>, <c>index1</c>, ... each with <c>level</c>,
    /// <c>type</c> and <c>size</c> files); null when it is missing or holds no level-1 data or
    /// level-2 cache. A missing level 3 reads as 0.
    /// </summary>
    public static CacheSizes? Read(string folder)
    {
        try
        {
            if (!Directory.Exists(folder))
                return null;
            int l1 = 0, l2 = 0;
            long l3 = 0;
            foreach (string index in Directory.EnumerateDirectories(folder, "index*"))
            {
                string? level = ReadLine(Path.Combine(index, "level")), type = ReadLine(Path.Combine(index, "type"));
                long? size = ParseSize(ReadLine(Path.Combine(index, "size")));
                if (size is not { } bytes || type is not ("Data" or "Unified"))
                    continue;
                switch (level)
                {
                    case "1" when type == "Data": l1 = (int)Math.Min(bytes, int.MaxValue); break;
                    case "2": l2 = (int)Math.Min(bytes, int.MaxValue); break;
                    case "3": l3 = bytes; break;
                }
            }
            return l1 > 0 && l2 > 0 ? new CacheSizes(l1, l2, l3, Measured: true) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// The caches as this x64 processor describes them through CPUID: leaf 0x8000001D on AMD (with
    /// topology extensions), leaf 4 elsewhere, both one sub-leaf per cache in the same layout. Some
    /// hypervisors leave those empty (a Firecracker VM on AMD EPYC Zen 5 does) but keep the older
    /// leaves 0x80000005 (AMD's L1 data cache) and 0x80000006 (L2); then L3 stays the default, because
    /// 0x80000006 gives AMD's whole package (508 MiB on that 2-core VM), not the L3 a core shares. Null
    /// off x64, or when no leaf describes a level-2 cache.
    /// </summary>
    public static CacheSizes? ReadCpuid()
    {
        if (!System.Runtime.Intrinsics.X86.X86Base.IsSupported)
            return null;
        var (maxLeaf, vendor0, vendor2, vendor1) = System.Runtime.Intrinsics.X86.X86Base.CpuId(0, 0);
        uint maxExtended = (uint)System.Runtime.Intrinsics.X86.X86Base.CpuId(unchecked((int)0x80000000), 0).Eax;
        // "AuthenticAMD" spread over EBX, EDX, ECX.
        bool amd = vendor0 == 0x68747541 && vendor1 == 0x69746E65 && vendor2 == 0x444D4163;
        int leaf = amd && maxExtended >= 0x8000001D ? unchecked((int)0x8000001D) : maxLeaf >= 4 ? 4 : 0;
        var leaves = new List<(int Eax, int Ebx, int Ecx)>();
        for (int sub = 0; leaf != 0 && sub < 16; sub++)
        {
            var (eax, ebx, ecx, _) = System.Runtime.Intrinsics.X86.X86Base.CpuId(leaf, sub);
            if ((eax & 0x1F) == 0)
                break;
            leaves.Add((eax, ebx, ecx));
        }
        if (FromCacheLeaves(leaves) is { } described)
            return described;
        if (maxExtended < 0x80000006)
            return null;
        int l1Leaf = amd && maxExtended >= 0x80000005 ? System.Runtime.Intrinsics.X86.X86Base.CpuId(unchecked((int)0x80000005), 0).Ecx : 0;
        return FromLegacyLeaves(l1Leaf, System.Runtime.Intrinsics.X86.X86Base.CpuId(unchecked((int)0x80000006), 0).Ecx);
    }

    /// <summary>
    /// Sizes from the legacy leaves: ECX of 0x80000005 (AMD: L1 data cache KiB in bits 31–24; 0 when
    /// not AMD) and ECX of 0x80000006 (L2 KiB in bits 31–16). The L1 defaults when not given, L3 always.
    /// Null without an L2.
    /// </summary>
    internal static CacheSizes? FromLegacyLeaves(int l1Ecx, int l2Ecx)
    {
        int l1 = ((l1Ecx >> 24) & 0xFF) * 1024, l2 = ((l2Ecx >> 16) & 0xFFFF) * 1024;
        return l2 > 0 ? new CacheSizes(l1 > 0 ? l1 : Default.L1Data, l2, Default.L3, Measured: true) : null;
    }

    /// <summary>
    /// Sizes from CPUID cache-description sub-leaves (leaf 4 / 0x8000001D layout): EAX bits 4–0 the
    /// type (1 data, 2 instruction, 3 unified), bits 7–5 the level; EBX the ways, partitions and line
    /// size, ECX the sets, each stored minus one. Null without a level-1 data and a level-2 cache.
    /// </summary>
    internal static CacheSizes? FromCacheLeaves(IEnumerable<(int Eax, int Ebx, int Ecx)> leaves)
    {
        int l1 = 0, l2 = 0;
        long l3 = 0;
        foreach (var (eax, ebx, ecx) in leaves)
        {
            int type = eax & 0x1F, level = (eax >> 5) & 0x7;
            if (type is not (1 or 3))
                continue;
            long ways = ((ebx >> 22) & 0x3FF) + 1, partitions = ((ebx >> 12) & 0x3FF) + 1, line = (ebx & 0xFFF) + 1;
            long bytes = ways * partitions * line * ((uint)ecx + 1L);
            switch (level)
            {
                case 1 when type == 1: l1 = (int)Math.Min(bytes, int.MaxValue); break;
                case 2: l2 = (int)Math.Min(bytes, int.MaxValue); break;
                case 3: l3 = bytes; break;
            }
        }
        return l1 > 0 && l2 > 0 ? new CacheSizes(l1, l2, l3, Measured: true) : null;
    }

    /// <summary>"32K", "1024K", "2M", "32768K" or a plain byte count; null when it is none of these or not positive.</summary>
    internal static long? ParseSize(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return null;
        long unit = char.ToUpperInvariant(text[^1]) switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, _ => 1 };
        string digits = unit == 1 ? text : text[..^1];
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value) && value > 0 && value <= (1L << 40) / unit
            ? value * unit
            : null;
    }

    private static string? ReadLine(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : null;
}
