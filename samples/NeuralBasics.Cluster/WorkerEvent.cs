using System.Text.Json;
using NeuralBasics.Training;

namespace NeuralBasics.Cluster;

/// <summary>One line a worker process writes: an epoch's report, the final report, a failure or a passed deadline.</summary>
internal sealed record WorkerEvent(string Event, WorkerReport? Report, string? Message)
{
    /// <summary>How the lines are written and read: camel-case JSON, one object per line.</summary>
    internal static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>The event a line holds, or null for a line that is not one (a stray message).</summary>
    public static WorkerEvent? Parse(string line)
    {
        if (!line.StartsWith('{'))
            return null;
        try
        {
            return JsonSerializer.Deserialize<WorkerEvent>(line, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>How a worker process ended: its final report, or why it has none.</summary>
internal sealed record WorkerOutcome(int Worker, int ExitCode, WorkerReport? Report, string? Message);

/// <summary>Reads a worker process's lines until it ends, handing each epoch report on.</summary>
internal static class WorkerWatch
{
    public static async Task<WorkerOutcome> FollowAsync(ClusterProcess process, int worker, Func<WorkerReport, Task>? onEpoch,
        CancellationToken cancellationToken)
    {
        WorkerReport? final = null;
        string? message = null;
        await foreach (string line in process.Lines.ReadAllAsync(cancellationToken))
        {
            switch (WorkerEvent.Parse(line))
            {
                case { Event: "epoch", Report: { } report } when onEpoch is not null:
                    await onEpoch(report);
                    break;
                case { Event: "done", Report: { } report }:
                    final = report;
                    break;
                case { Event: "failed" or "deadline", Message: var text }:
                    message = text;
                    break;
            }
        }
        await process.WaitForExitAsync(cancellationToken);
        return new WorkerOutcome(worker, process.ExitCode, final, message ?? (final is null ? $"exit code {process.ExitCode}: {process.Errors}" : null));
    }
}
