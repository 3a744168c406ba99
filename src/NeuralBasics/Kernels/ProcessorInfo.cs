using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NeuralBasics.Kernels;

/// <summary>
/// The processor the kernels run on, as far as the operating system tells: its model and the
/// sizes of its data caches, read once at start. <see cref="Gemm"/> derives its cache blocking from
/// these sizes rather than from constants tuned on one machine; benchmarks print
/// <see cref="Describe"/> beside their figures.
/// </summary>
/// <remarks>
/// On Linux the caches come from <c>/sys/devices/system/cpu/cpu0/cache</c> and the model from
/// <c>/proc/cpuinfo</c>. Elsewhere, or when those cannot be read, the sizes are the defaults below
/// (a common server core, for which the blocking equals the constants it replaced) and
/// <see cref="CacheSizesAreMeasured"/> is false.
/// </remarks>
public static class ProcessorInfo
{
    private static readonly CacheSizes s_caches = CacheSizes.Read("/sys/devices/system/cpu/cpu0/cache") ?? CacheSizes.Default;

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

    /// <summary>One line for a benchmark's header: model, core count, caches and the widest vector the kernels use.</summary>
    public static string Describe() =>
        $"{Model}; {Environment.ProcessorCount} logical cores; L1d {Size(L1DataCacheBytes)}, L2 {Size(L2CacheBytes)}, L3 {Size(L3CacheBytes)}" +
        (CacheSizesAreMeasured ? "" : " (defaults: not read from the OS)") +
        $"; vectors {(Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : Vector128.IsHardwareAccelerated ? 128 : 0)} bits";

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
