using Microsoft.Extensions.Logging;

namespace AgentCrm.Core.Durable.Api;

/// <summary>
/// What an orchestrator sees. Orchestrator code must be deterministic: use <see cref="CurrentUtcDateTime"/>
/// and <see cref="NewGuid"/>, never the clock, random numbers, I/O or Task.Run; do work in activities.
/// </summary>
public abstract class TaskOrchestrationContext
{
    public abstract string InstanceId { get; }

    public abstract string Name { get; }

    public abstract string Version { get; }

    public abstract DateTime CurrentUtcDateTime { get; }

    public abstract bool IsReplaying { get; }

    public abstract T? GetInput<T>();

    public abstract Task<T> CallActivityAsync<T>(string name, object? input = null, TaskOptions? options = null);

    public Task CallActivityAsync(string name, object? input = null, TaskOptions? options = null) =>
        CallActivityAsync<object?>(name, input, options);

    public abstract Task<T> CallSubOrchestratorAsync<T>(string name, object? input = null, SubOrchestrationOptions? options = null);

    public abstract Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken = default);

    public Task CreateTimer(TimeSpan delay, CancellationToken cancellationToken = default) =>
        CreateTimer(CurrentUtcDateTime + delay, cancellationToken);

    public abstract Task<T> WaitForExternalEvent<T>(string name, CancellationToken cancellationToken = default);

    /// <summary>Waits for the event or the timeout, whichever is first; on timeout throws <see cref="TimeoutException"/>.</summary>
    public abstract Task<T> WaitForExternalEvent<T>(string name, TimeSpan timeout, CancellationToken cancellationToken = default);

    public abstract void SendEvent(string instanceId, string eventName, object? payload = null);

    public abstract void SetCustomStatus(object? status);

    /// <summary>Ends this execution and starts the same instance afresh with <paramref name="newInput"/> and an empty history.</summary>
    public abstract void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true);

    /// <summary>A name-based (v5) GUID from the instance id, the episode time and a counter: the same on every replay.</summary>
    public abstract Guid NewGuid();

    /// <summary>A logger that stays silent while the orchestrator replays, so each line is written once.</summary>
    public abstract ILogger CreateReplaySafeLogger(string categoryName);

    /// <summary>How large this execution's history is (events and bytes): orchestrators can ContinueAsNew before limits.</summary>
    public abstract (int Events, long Bytes) HistorySize { get; }
}

/// <summary>What an activity sees.</summary>
public abstract class TaskActivityContext
{
    public abstract string Name { get; }

    public abstract string InstanceId { get; }

    /// <summary>1 for the first attempt.</summary>
    public abstract int Attempt { get; }

    /// <summary>When the orchestrator scheduled this call (UTC, database clock).</summary>
    public abstract DateTime ScheduledAt { get; }

    /// <summary>"instance:execution:task": the same for every attempt of this call, for idempotent side effects.</summary>
    public abstract string IdempotencyKey { get; }

    /// <summary>Cancelled on terminate, lease loss, start-to-close timeout or shutdown.</summary>
    public abstract CancellationToken CancellationToken { get; }

    /// <summary>Records progress (shown in status, available to the next attempt as <see cref="LastHeartbeatDetails"/>).</summary>
    public abstract Task HeartbeatAsync(object? details = null);

    public abstract string? LastHeartbeatDetails { get; }
}
