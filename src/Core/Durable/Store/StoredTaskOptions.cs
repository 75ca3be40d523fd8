using AgentCrm.Core.Durable.Api;

namespace AgentCrm.Core.Durable.Store;

/// <summary>
/// A task's options as its TaskScheduled history event keeps them (null there means the defaults), so a
/// rewind can create the task row again. A Local task comes back Queued: whoever is free runs it.
/// </summary>
public sealed record StoredTaskOptions(string Queue, StoredRetryPolicy? Retry, long? StartToCloseMs, long? ScheduleToCloseMs)
{
    public static StoredTaskOptions Default { get; } = new("default", null, null, null);

    public static bool IsDefault(TaskOptions options) =>
        options.Retry is null && options.Queue == "default" && options.StartToCloseTimeout is null && options.ScheduleToCloseTimeout is null;

    public static StoredTaskOptions From(TaskOptions options) => new(
        options.Queue, options.Retry is null ? null : StoredRetryPolicy.From(options.Retry),
        options.StartToCloseTimeout is { } s ? (long)s.TotalMilliseconds : null,
        options.ScheduleToCloseTimeout is { } c ? (long)c.TotalMilliseconds : null);
}
