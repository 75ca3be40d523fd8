using AgentCrm.Core.Durable.Api;
using AgentCrm.Core.Durable.Runtime;
using AgentCrm.Core.Durable.Store;
using Microsoft.Extensions.Logging;

namespace AgentCrm.Core.Durable.Workers;

/// <summary>
/// Applies <see cref="DurableLimits"/> to each turn. Warnings fire on the turn that crosses a threshold, so once
/// per execution however long it runs. A fail limit fails the instance instead of committing the turn, so
/// history stops growing and the worker carries on; a turn that ends the execution is let through (it adds
/// no more than its end).
/// </summary>
internal sealed partial class LimitGuard(DurableOptions options, ILogger<LimitGuard> logger)
{
    private DurableLimits Limits => options.Limits;

    /// <summary>Before a replay: a stored history already over a fail limit is failed without being loaded.</summary>
    public TaskFailureDetails? CheckStored(InstanceWorkItem item, (int Events, long Bytes) stored) => OverLimit(item, stored);

    /// <summary>After a turn ran in memory, before it is committed.</summary>
    public TaskFailureDetails? CheckTurn(InstanceWorkItem item, (int Events, long Bytes) before, (int Events, long Bytes) after, TurnResult turn)
    {
        if (Crossed(before.Events, after.Events, Limits.WarnHistoryEvents))
        {
            Warn(item, "history_events", after.Events, Limits.WarnHistoryEvents);
        }

        if (Crossed(before.Bytes, after.Bytes, Limits.WarnHistoryBytes))
        {
            Warn(item, "history_bytes", after.Bytes, Limits.WarnHistoryBytes);
        }

        var largest = turn.NewHistory.Where(e => e.Payload is not null).MaxBy(e => e.Payload!.Length);
        var customStatus = turn.CustomStatusChanged ? turn.CustomStatus?.Length ?? 0 : 0;
        var payload = Math.Max(largest?.Payload!.Length ?? 0, customStatus);
        if (payload > Limits.WarnPayloadBytes)
        {
            DurableMetrics.LimitWarnings.Add(1, new KeyValuePair<string, object?>("limit", "payload_bytes"));
            LogLargePayload(logger, item.InstanceId, item.Name, payload == customStatus ? "custom status" : largest!.Kind.ToString(), payload, Limits.WarnPayloadBytes);
        }

        return turn.Outcome is null ? OverLimit(item, after) : null;
    }

    private static bool Crossed(long before, long after, long threshold) => before <= threshold && after > threshold;

    private TaskFailureDetails? OverLimit(InstanceWorkItem item, (int Events, long Bytes) size)
    {
        if (size.Events > Limits.MaxHistoryEvents)
        {
            return Fail("history_events", DurableLimitException.ActionLimitExceeded,
                $"Orchestration '{item.Name}' reached {size.Events} history events; the limit is {Limits.MaxHistoryEvents} (Durable__MaxHistoryEvents). " +
                "Use ContinueAsNew to start a fresh history, or sub-orchestrations to split the work.");
        }

        if (size.Bytes > Limits.MaxHistoryBytes)
        {
            return Fail("history_bytes", DurableLimitException.HistoryLimitExceeded,
                $"Orchestration '{item.Name}' reached {size.Bytes} bytes of history; the limit is {Limits.MaxHistoryBytes} (Durable__MaxHistoryBytes). " +
                "Pass references instead of large payloads, or use ContinueAsNew.");
        }

        return null;
    }

    private static TaskFailureDetails Fail(string limit, string errorType, string message)
    {
        DurableMetrics.LimitFailures.Add(1, new KeyValuePair<string, object?>("limit", limit));
        return new TaskFailureDetails(errorType, message, null);
    }

    private void Warn(InstanceWorkItem item, string limit, long value, long threshold)
    {
        DurableMetrics.LimitWarnings.Add(1, new KeyValuePair<string, object?>("limit", limit));
        LogHistoryWarning(logger, item.InstanceId, item.Name, limit, value, threshold);
    }

    [LoggerMessage(EventId = 6030, Level = LogLevel.Warning,
        Message = "Instance {InstanceId} ({Orchestration}) crossed the {Limit} warn limit: {Value} > {Threshold}; it fails at the Durable__MaxHistory* limit. Consider ContinueAsNew")]
    private static partial void LogHistoryWarning(ILogger logger, string instanceId, string orchestration, string limit, long value, long threshold);

    [LoggerMessage(EventId = 6031, Level = LogLevel.Warning,
        Message = "Instance {InstanceId} ({Orchestration}) carried a {What} payload of {Bytes} bytes, over the warn size of {Threshold} (Durable__WarnPayloadBytes); pass references to large data")]
    private static partial void LogLargePayload(ILogger logger, string instanceId, string orchestration, string what, int bytes, int threshold);
}
