namespace AgentCrm.Core.Durable.Runtime;

/// <summary>
/// One event of an execution's history (or one inbox message). <see cref="PayloadId"/> is set when the
/// payload is already stored (an inbox message's), so a turn references it instead of writing it again.
/// </summary>
public sealed record HistoryEvent(EventKind Kind, int TaskId, string? Name, string? Payload, DateTime Timestamp)
{
    public Guid? PayloadId { get; init; }

    public long Size => (Payload?.Length ?? 0) + (Name?.Length ?? 0) + 32;
}

/// <summary>An inbox message for an instance: its row id (to delete when consumed) and the event it carries.</summary>
public sealed record InboxMessage(long Id, Guid? ExecutionId, HistoryEvent Event);
