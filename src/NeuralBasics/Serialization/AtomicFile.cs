namespace NeuralBasics.Serialization;

/// <summary>
/// Writes a file through a temporary sibling and one rename, so readers never see it half-written.
/// The sibling is named <c>.NAME.PID.GUID.tmp</c>: a process killed mid-write leaves one behind,
/// and the next successful save to the same path removes it (and any left by a process that is
/// no longer running, or that has not been written to for an hour).
/// </summary>
internal static class AtomicFile
{
    /// <summary>How long a sibling may sit unwritten before it counts as abandoned even if its process lives.</summary>
    internal static readonly TimeSpan AbandonedAfter = TimeSpan.FromHours(1);

    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full)!, name = Path.GetFileName(full);
        string temporary = Path.Combine(folder, $".{name}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
        }
        RemoveLeftovers(folder, name);
    }

    /// <summary>Deletes the temporary siblings of <paramref name="name"/> that interrupted saves left behind.</summary>
    internal static void RemoveLeftovers(string folder, string name)
    {
        string prefix = $".{name}.";
        try
        {
            foreach (string candidate in Directory.EnumerateFiles(folder, "*.tmp"))
            {
                string file = Path.GetFileName(candidate);
                if (!file.StartsWith(prefix, StringComparison.Ordinal) || !IsAbandoned(candidate, file[prefix.Length..^4]))
                    continue;
                try
                {
                    File.Delete(candidate);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Another process may be removing it too; a leftover stays a leftover.
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The save itself succeeded; cleaning up is best effort.
        }
    }

    /// <summary>
    /// <paramref name="middle"/> is "PID.GUID" (or "GUID" from versions that did not record the
    /// process): abandoned when that process is gone, or when nothing has written to it for an hour.
    /// </summary>
    private static bool IsAbandoned(string path, string middle)
    {
        int dot = middle.IndexOf('.');
        string guid = dot < 0 ? middle : middle[(dot + 1)..];
        if (guid.Length != 32 || !Guid.TryParseExact(guid, "N", out _))
            return false; // not one of ours
        bool stale = DateTime.UtcNow - File.GetLastWriteTimeUtc(path) > AbandonedAfter;
        if (dot < 0)
            return stale;
        if (!int.TryParse(middle.AsSpan(0, dot), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid))
            return false;
        return stale || !IsRunning(pid);
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }
}
