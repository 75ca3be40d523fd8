using AgentCrm.Core.Durable.Api;

namespace AgentCrm.Core.Durable.Store;

/// <summary>An instance this worker has leased for one turn; <see cref="Epoch"/> fences every write of the turn.</summary>
public sealed record InstanceWorkItem(
    string InstanceId,
    Guid ExecutionId,
    string Name,
    string Version,
    OrchestrationStatus Status,
    long Epoch,
    int HistoryEvents,
    int DispatchCount,
    string? ParentInstanceId,
    Guid? ParentExecutionId,
    int? ParentTaskId)
{
    /// <summary>The stored history's size, with <see cref="HistoryEvents"/>: checked against the limits before a replay loads it.</summary>
    public long HistoryBytes { get; init; }
}

/// <summary>An activity attempt this worker has leased.</summary>
public sealed record TaskWorkItem(
    long Id,
    string Queue,
    string InstanceId,
    Guid ExecutionId,
    int TaskId,
    string Name,
    string? Input,
    int Attempt,
    int DequeueCount,
    long Epoch,
    StoredRetryPolicy? Retry,
    TimeSpan? StartToClose,
    DateTime? ScheduleToCloseAt,
    DateTime FirstScheduledAt,
    string? HeartbeatDetails,
    bool CancelRequested);

/// <summary>The part of a RetryPolicy the task row keeps (a Handle predicate cannot be stored; the flag sends the decision to the orchestrator).</summary>
public sealed record StoredRetryPolicy(
    int MaxNumberOfAttempts, double FirstRetryIntervalMs, double BackoffCoefficient, double MaxRetryIntervalMs, double RetryTimeoutMs,
    IReadOnlyList<string> NonRetryableErrorTypes, double Jitter, bool HasHandle)
{
    public static StoredRetryPolicy From(RetryPolicy policy) => new(
        policy.MaxNumberOfAttempts, policy.FirstRetryInterval.TotalMilliseconds, policy.BackoffCoefficient,
        policy.MaxRetryInterval == Timeout.InfiniteTimeSpan ? -1 : policy.MaxRetryInterval.TotalMilliseconds,
        policy.RetryTimeout == Timeout.InfiniteTimeSpan ? -1 : policy.RetryTimeout.TotalMilliseconds,
        policy.NonRetryableErrorTypes, policy.Jitter, policy.HandleFailure is not null);

    public RetryPolicy ToPolicy() => new(
        MaxNumberOfAttempts, TimeSpan.FromMilliseconds(FirstRetryIntervalMs), BackoffCoefficient,
        MaxRetryIntervalMs < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(MaxRetryIntervalMs),
        RetryTimeoutMs < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(RetryTimeoutMs))
    {
        NonRetryableErrorTypes = NonRetryableErrorTypes,
        Jitter = Jitter,
    };
}

/// <summary>An instance's state as the client sees it.</summary>
public sealed record OrchestrationMetadata(
    string InstanceId,
    string Name,
    string Version,
    OrchestrationStatus Status,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    DateTime? CompletedAt,
    string? Input,
    string? Output,
    string? CustomStatus,
    TaskFailureDetails? Failure,
    int HistoryEvents,
    Guid ExecutionId)
{
    /// <summary>The workspace that owns the instance (null: started by the system).</summary>
    public string? Scope { get; init; }

    public string? ParentInstanceId { get; init; }

    public T? ReadOutput<T>() => Runtime.DurableJson.Deserialize<T>(Output);
}

/// <summary>The lease was lost (another worker took over): the turn or result is discarded.</summary>
public sealed class LeaseLostException : Exception
{
    public LeaseLostException() { }

    public LeaseLostException(string message) : base(message) { }

    public LeaseLostException(string message, Exception innerException) : base(message, innerException) { }
}
