namespace AgentCrm.Core.Durable.Api;

/// <summary>
/// Durable Functions' RetryPolicy: the same fields, validation and formula (after failure k, 0-based,
/// wait FirstRetryInterval × BackoffCoefficient^k capped at MaxRetryInterval; stop after
/// MaxNumberOfAttempts, or once RetryTimeout has passed since the first attempt, or when Handle says
/// no). Added: error types that are never retried, and jitter. Retries live in the task row, not as
/// timers in history.
/// </summary>
public sealed record RetryPolicy
{
    public RetryPolicy(int maxNumberOfAttempts, TimeSpan firstRetryInterval, double backoffCoefficient = 1.0, TimeSpan? maxRetryInterval = null, TimeSpan? retryTimeout = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxNumberOfAttempts, 0);
        if (firstRetryInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(firstRetryInterval), firstRetryInterval, "Must be greater than zero.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(backoffCoefficient, 1.0);
        var max = maxRetryInterval ?? TimeSpan.FromHours(1);
        if (max != Timeout.InfiniteTimeSpan && max < firstRetryInterval)
        {
            throw new ArgumentOutOfRangeException(nameof(maxRetryInterval), max, "Must be at least firstRetryInterval.");
        }

        var timeout = retryTimeout ?? Timeout.InfiniteTimeSpan;
        if (timeout != Timeout.InfiniteTimeSpan && timeout < firstRetryInterval)
        {
            throw new ArgumentOutOfRangeException(nameof(retryTimeout), timeout, "Must be at least firstRetryInterval.");
        }

        MaxNumberOfAttempts = maxNumberOfAttempts;
        FirstRetryInterval = firstRetryInterval;
        BackoffCoefficient = backoffCoefficient;
        MaxRetryInterval = max;
        RetryTimeout = timeout;
    }

    public int MaxNumberOfAttempts { get; }

    public TimeSpan FirstRetryInterval { get; }

    public double BackoffCoefficient { get; }

    public TimeSpan MaxRetryInterval { get; }

    public TimeSpan RetryTimeout { get; }

    /// <summary>Decides per failure whether to retry; time and attempt limits win over it. Runs in the orchestrator.</summary>
    public Func<TaskFailureDetails, bool>? HandleFailure { get; init; }

    /// <summary>Error type names (full names) that fail at once, whatever the attempts left.</summary>
    public IReadOnlyList<string> NonRetryableErrorTypes { get; init; } = [];

    /// <summary>0 to 1: each delay is spread by up to this fraction either way, so retries of many tasks do not align.</summary>
    public double Jitter { get; init; }

    /// <summary>The wait before the attempt after failure number <paramref name="failedAttempts"/> (1-based), before jitter.</summary>
    public TimeSpan DelayAfter(int failedAttempts)
    {
        var delay = FirstRetryInterval.TotalMilliseconds * Math.Pow(BackoffCoefficient, failedAttempts - 1);
        if (MaxRetryInterval != Timeout.InfiniteTimeSpan)
        {
            delay = Math.Min(delay, MaxRetryInterval.TotalMilliseconds);
        }

        return TimeSpan.FromMilliseconds(delay);
    }

    /// <summary>Whether the policy's own limits allow another attempt (Handle is asked separately, by the orchestrator).</summary>
    public bool AllowsRetry(TaskFailureDetails failure, int failedAttempts, TimeSpan sinceFirstAttempt) =>
        failedAttempts < MaxNumberOfAttempts
        && !NonRetryableErrorTypes.Contains(failure.ErrorType)
        && (RetryTimeout == Timeout.InfiniteTimeSpan || sinceFirstAttempt < RetryTimeout);
}
