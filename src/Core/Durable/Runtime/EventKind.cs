namespace AgentCrm.Core.Durable.Runtime;

/// <summary>
/// Kinds of history events and inbox messages. Inbox messages become history events of the same kind
/// when a turn consumes them, except TaskAttemptFailed, which only asks the orchestrator whether to retry.
/// </summary>
public enum EventKind : short
{
    ExecutionStarted = 1,
    OrchestratorStarted = 2,
    TaskScheduled = 3,
    TaskCompleted = 4,
    TaskFailed = 5,
    TimerCreated = 6,
    TimerFired = 7,
    SubOrchestrationCreated = 8,
    SubOrchestrationCompleted = 9,
    SubOrchestrationFailed = 10,
    EventRaised = 11,
    EventSent = 12,
    ExecutionCompleted = 13,
    ExecutionFailed = 14,
    ExecutionTerminated = 15,
    ContinuedAsNew = 16,
    TaskAttemptFailed = 17,

    /// <summary>An operator rewound the failed execution (payload: the reason); replay ignores it.</summary>
    ExecutionRewound = 18,
}
