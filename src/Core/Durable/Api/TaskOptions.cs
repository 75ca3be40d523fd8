namespace AgentCrm.Core.Durable.Api;

/// <summary>How an activity runs: Queued goes through the task queue to any worker; Local runs on the worker that holds the orchestration.</summary>
public enum DispatchMode
{
    Queued,
    Local,
}

/// <summary>Options for one activity call.</summary>
public sealed record TaskOptions
{
    public RetryPolicy? Retry { get; init; }

    /// <summary>The task queue (Queued mode). Workers take tasks per queue, each with its own concurrency.</summary>
    public string Queue { get; init; } = "default";

    public DispatchMode Dispatch { get; init; } = DispatchMode.Queued;

    /// <summary>The most one attempt may take; the activity's token is cancelled and the attempt fails with a timeout.</summary>
    public TimeSpan? StartToCloseTimeout { get; init; }

    /// <summary>The most all attempts together may take, from scheduling; no attempt starts after it.</summary>
    public TimeSpan? ScheduleToCloseTimeout { get; init; }

    public static TaskOptions FromRetryPolicy(RetryPolicy policy) => new() { Retry = policy };
}

/// <summary>Options for a sub-orchestration: its instance id (default: a deterministic new GUID) and version.</summary>
public sealed record SubOrchestrationOptions
{
    public string? InstanceId { get; init; }

    public string? Version { get; init; }
}
