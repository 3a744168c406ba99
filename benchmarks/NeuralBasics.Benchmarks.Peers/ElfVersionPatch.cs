using System.Buffers.Binary;
using System.Text;

namespace NeuralBasics.Benchmarks.Peers;

/// <summary>
/// TorchSharp 0.107's native glue library (libLibTorchSharp.so) asks for libstdc++'s
/// GLIBCXX_3.4.32 (GCC 13), newer than Debian 12 ships, for a single symbol it does not need to run
/// (std::ios_base_library_init). This marks that one version requirement weak (VER_FLG_WEAK in its
/// .gnu.version_r entry), so the dynamic loader accepts the older libstdc++. It edits only the copy
/// under this program's bin/ folder, never the NuGet cache, and only when the system lacks the version.
/// </summary>
internal static class ElfVersionPatch
{
    private const ushort VerFlagWeak = 0x2;

    /// <summary>Makes <paramref name="version"/> a weak requirement of the ELF file at <paramref name="path"/>; returns whether it changed anything.</summary>
    public static bool MakeWeak(string path, string version)
    {
        byte[] elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException($"{path} is not a 64-bit little-endian ELF file.");
        long sectionHeaders = BinaryPrimitives.ReadInt64LittleEndian(elf.AsSpan(0x28));
        int entrySize = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(0x3A));
        int count = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(0x3C));

        for (int i = 0; i < count; i++)
        {
            var header = elf.AsSpan((int)(sectionHeaders + i * entrySize), entrySize);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
            if (type != 0x6ffffffe) // SHT_GNU_verneed
                continue;
            long offset = BinaryPrimitives.ReadInt64LittleEndian(header[0x18..]);
            int link = (int)BinaryPrimitives.ReadUInt32LittleEndian(header[0x28..]);
            var strings = elf.AsSpan((int)(sectionHeaders + link * entrySize), entrySize);
            long stringsOffset = BinaryPrimitives.ReadInt64LittleEndian(strings[0x18..]);

            long need = offset;
            while (true)
            {
                int auxCount = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan((int)need + 2));
                long aux = need + BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan((int)need + 8));
                for (int a = 0; a < auxCount; a++)
                {
                    uint name = BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan((int)aux + 8));
                    int start = (int)(stringsOffset + name);
                    int end = Array.IndexOf(elf, (byte)0, start);
                    if (Encoding.ASCII.GetString(elf, start, end - start) == version)
                    {
                        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan((int)aux + 4));
                        if ((flags & VerFlagWeak) != 0)
                            return false;
                        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan((int)aux + 4), (ushort)(flags | VerFlagWeak));
                        File.WriteAllBytes(path, elf);
                        return true;
                    }
                    aux += BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan((int)aux + 12));
                }
                uint next = BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan((int)need + 12));
                if (next == 0)
                    break;
                need += next;
            }
        }
        return false;
    }

    /// <summary>Patches the TorchSharp glue next to this program if the system's libstdc++ lacks GLIBCXX_3.4.32.</summary>
    public static void PrepareTorchSharp()
    {
        string library = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        if (!OperatingSystem.IsLinux() || !File.Exists(library))
            return;
        string? system = new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6" }
            .FirstOrDefault(File.Exists);
        if (system is not null && Encoding.ASCII.GetString(File.ReadAllBytes(system)).Contains("GLIBCXX_3.4.32", StringComparison.Ordinal))
            return;
        if (MakeWeak(library, "GLIBCXX_3.4.32"))
            Console.WriteLine("(marked libLibTorchSharp.so's GLIBCXX_3.4.32 requirement weak in bin/: this libstdc++ is older)");
    }
}
