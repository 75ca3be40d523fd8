using AgentCrm.Core.Durable;
using AgentCrm.Core.Durable.Runtime;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentCrm.Core.Tests.Durable;

/// <summary>Drives an OrchestrationExecution turn by turn, as the worker does, keeping the committed history.</summary>
internal sealed class ReplayHarness(DurableRegistry registry, string name, string instanceId = "i-1")
{
    public static readonly DateTime T0 = new(2026, 11, 22, 12, 0, 0, DateTimeKind.Utc);

    public List<HistoryEvent> History { get; } = [];

    public OrchestrationExecution Execution { get; private set; } = Create(registry, name, instanceId);

    public TurnResult Start(object? input) => Turn(new HistoryEvent(EventKind.ExecutionStarted, -1, null, DurableJson.Serialize(input), T0));

    public TurnResult Turn(params HistoryEvent[] messages) => Turn(T0.AddSeconds(History.Count), messages);

    public TurnResult Turn(DateTime now, params HistoryEvent[] messages)
    {
        var result = Execution.RunTurn(messages, now);
        History.AddRange(result.NewHistory);
        return result;
    }

    /// <summary>Throws the in-memory state away and rebuilds it from history, as after a crash.</summary>
    public void ReplayFromHistory(DurableRegistry? changedCode = null)
    {
        Execution = Create(changedCode ?? registry, name, instanceId);
        Execution.Replay(History);
    }

    public static HistoryEvent Completed(int taskId, object? result) => new(EventKind.TaskCompleted, taskId, null, DurableJson.Serialize(result), T0);

    public static HistoryEvent Event(string name, object? payload) => new(EventKind.EventRaised, -1, name, DurableJson.Serialize(payload), T0);

    public static HistoryEvent TimerFired(int taskId) => new(EventKind.TimerFired, taskId, null, null, T0);

    private static OrchestrationExecution Create(DurableRegistry registry, string name, string instanceId) =>
        new(instanceId, Guid.Parse("00000000-0000-0000-0000-000000000001"), registry.FindOrchestrator(name, registry.DefaultVersion(name))!,
            registry.DefaultVersion, NullLoggerFactory.Instance);
}
