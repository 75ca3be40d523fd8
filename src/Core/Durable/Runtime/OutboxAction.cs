using AgentCrm.Core.Durable.Api;

namespace AgentCrm.Core.Durable.Runtime;

/// <summary>What a turn asks the store to do besides appending history: the turn's outbox.</summary>
public abstract record OutboxAction;

public sealed record ScheduleTaskAction(int TaskId, string Name, string? Input, TaskOptions Options) : OutboxAction;

public sealed record CreateTimerAction(int TaskId, DateTime FireAt) : OutboxAction;

public sealed record StartSubOrchestrationAction(int TaskId, string Name, string Version, string InstanceId, string? Input) : OutboxAction;

public sealed record SendEventAction(string InstanceId, string EventName, string? Payload) : OutboxAction;

/// <summary>The orchestrator's Handle predicate chose to retry: the parked task row runs again after the delay.</summary>
public sealed record RetryTaskAction(int TaskId, TimeSpan Delay) : OutboxAction;

/// <summary>How an execution ended in this turn, if it did.</summary>
public abstract record ExecutionOutcome;

public sealed record CompletedOutcome(string? Output) : ExecutionOutcome;

public sealed record FailedOutcome(TaskFailureDetails Failure) : ExecutionOutcome;

public sealed record TerminatedOutcome(string? Output) : ExecutionOutcome;

public sealed record ContinuedAsNewOutcome(string? Input, IReadOnlyList<HistoryEvent> CarriedEvents) : ExecutionOutcome;

/// <summary>Everything one turn produced, to be committed in one transaction.</summary>
public sealed record TurnResult(
    IReadOnlyList<HistoryEvent> NewHistory,
    IReadOnlyList<OutboxAction> Outbox,
    ExecutionOutcome? Outcome,
    string? CustomStatus,
    bool CustomStatusChanged)
{
    /// <summary>How many of the turn's messages were applied before the execution ended (the rest belong to what comes next).</summary>
    public int AppliedMessages { get; init; } = int.MaxValue;
}
