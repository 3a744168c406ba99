namespace NeuralBasics.Orleans;

/// <summary>
/// How a client resends a message that got no answer (a timeout, or the grain's silo going away):
/// the same message, with the same stamp, so the grain applies it at most once.
/// </summary>
public sealed record RetryPolicy
{
    private readonly int _attempts = 6;
    private readonly TimeSpan _firstDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>The default: 6 attempts, waiting 0.2 s, 0.4 s, 0.8 s, … between them.</summary>
    public static RetryPolicy Default { get; } = new();

    /// <summary>Attempts in all, at least 1. Default 6.</summary>
    public int Attempts { get => _attempts; init { ArgumentOutOfRangeException.ThrowIfLessThan(value, 1); _attempts = value; } }

    /// <summary>The wait before the second attempt; each later wait doubles. Default 0.2 s.</summary>
    public TimeSpan FirstDelay { get => _firstDelay; init { ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero); _firstDelay = value; } }

    internal async Task<TResult> Run<TResult>(Func<Task<TResult>> call, CancellationToken cancellationToken)
    {
        var delay = FirstDelay;
        for (int attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                return await call().WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (attempt < Attempts && IsTransient(e))
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay *= 2;
            }
        }
    }

    /// <summary>No answer, or the silo went away: the message may or may not have been applied.</summary>
    private static bool IsTransient(Exception e) =>
        e is TimeoutException or SiloUnavailableException or OrleansMessageRejectionException or ClientNotAvailableException;
}
