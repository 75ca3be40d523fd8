namespace AgentCrm.Core.Durable.Api;

/// <summary>Durable Functions' runtime statuses (ContinuedAsNew is transient and never stored).</summary>
public enum OrchestrationStatus : short
{
    Pending = 0,
    Running = 1,
    Completed = 2,
    Failed = 3,
    Terminated = 4,
    Suspended = 5,
}

public static class OrchestrationStatusExtensions
{
    public static bool IsTerminal(this OrchestrationStatus status) =>
        status is OrchestrationStatus.Completed or OrchestrationStatus.Failed or OrchestrationStatus.Terminated;
}
