using System.Text.Json;

namespace AgentCrm.Core.Orchestrations;

/// <summary>POST /api/orchestrations: which orchestrator, and optionally the instance id, its version and input (any JSON).</summary>
public sealed record StartOrchestration(string? Name, string? InstanceId, string? Version, JsonElement? Input);

/// <summary>An instance in Durable Functions' status shape (plus version and failure details).</summary>
public sealed record OrchestrationState(
    string Name,
    string InstanceId,
    string Version,
    string RuntimeStatus,
    JsonElement? Input,
    JsonElement? CustomStatus,
    JsonElement? Output,
    OrchestrationFailure? FailureDetails,
    DateTime CreatedTime,
    DateTime LastUpdatedTime,
    DateTime? CompletedTime,
    string? ParentInstanceId,
    IReadOnlyList<OrchestrationHistoryEvent>? HistoryEvents);

/// <summary>Why an instance failed. No stack trace: workspace admins are customers, and the trace is our code's inside.</summary>
public sealed record OrchestrationFailure(string ErrorType, string ErrorMessage);

/// <summary>One history event; <see cref="Payload"/> only with showHistoryOutput.</summary>
public sealed record OrchestrationHistoryEvent(string EventType, DateTime Timestamp, int? TaskId, string? Name, JsonElement? Payload);

/// <summary>Durable Functions' check-status payload: where to follow an instance and what can be done to it.</summary>
public sealed record CheckStatusLinks(
    string Id,
    string StatusQueryGetUri,
    string SendEventPostUri,
    string TerminatePostUri,
    string PurgeHistoryDeleteUri,
    string RestartPostUri,
    string SuspendPostUri,
    string ResumePostUri,
    string RewindPostUri);

/// <summary>What a purge deleted.</summary>
public sealed record PurgeResult(long InstancesDeleted);
