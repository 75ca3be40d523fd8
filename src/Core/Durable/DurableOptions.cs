using AgentCrm.Core.Platform.Configuration;

namespace AgentCrm.Core.Durable;

/// <summary>Engine settings (queue functions' per-queue settings are their handlers' QueueHandlerOptions). Leases are renewed at a third of their length; a dead worker's work moves after one lease.</summary>
public sealed record DurableOptions(
    TimeSpan Lease,
    int MaxConcurrentOrchestrations,
    int MaxConcurrentActivities,
    IReadOnlyList<string> Queues,
    int MaxDispatchCount,
    TimeSpan PollMin,
    TimeSpan PollMax,
    int BatchSize,
    int MaxCachedInstances,
    int MaxPayloadBytes,
    TimeSpan QueueAgeDegraded)
{
    public DurableLimits Limits { get; init; } = DurableLimits.Defaults;

    /// <summary>How long finished instances are kept before durable.purge-retention deletes them.</summary>
    public TimeSpan Retention { get; init; } = TimeSpan.FromDays(30);

    /// <summary>Instances deleted per purge statement, so one statement never holds many locks for long.</summary>
    public int PurgeBatchSize { get; init; } = 1000;

    /// <summary>Work left unconsumed this long makes an instance count as stuck (gauge and health warning).</summary>
    public TimeSpan StuckAfter { get; init; } = TimeSpan.FromMinutes(60);

    public static DurableOptions Read(SettingsReader settings)
    {
        var queues = (settings.OptionalString("Durable:Queues") ?? "default").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var maxPayloadBytes = settings.WholeNumber("Durable:MaxPayloadBytes", 2 * 1024 * 1024, 1024, 64 * 1024 * 1024);
        return new DurableOptions(
            TimeSpan.FromSeconds(settings.WholeNumber("Durable:LeaseSeconds", 30, 5, 600)),
            settings.WholeNumber("Durable:MaxConcurrentOrchestrations", 32, 1, 1000),
            settings.WholeNumber("Durable:MaxConcurrentActivities", 64, 1, 1000),
            queues.Length == 0 ? ["default"] : queues,
            settings.WholeNumber("Durable:MaxDispatchCount", 10, 1, 1000),
            TimeSpan.FromMilliseconds(settings.WholeNumber("Durable:PollMinMs", 50, 1, 10_000)),
            TimeSpan.FromMilliseconds(settings.WholeNumber("Durable:PollMaxMs", 2000, 10, 60_000)),
            settings.WholeNumber("Durable:BatchSize", 16, 1, 500),
            settings.WholeNumber("Durable:MaxCachedInstances", 2000, 0, 1_000_000),
            maxPayloadBytes,
            // /api/health turns Degraded when a queue's oldest visible message has waited longer than this.
            TimeSpan.FromSeconds(settings.WholeNumber("Durable:QueueAgeDegradedSeconds", 300, 1, 7 * 24 * 3600)))
        {
            Limits = DurableLimits.Read(settings, maxPayloadBytes),
            Retention = TimeSpan.FromDays(settings.WholeNumber("Durable:RetentionDays", 30, 1, 3650)),
            PurgeBatchSize = settings.WholeNumber("Durable:PurgeBatchSize", 1000, 1, 100_000),
            StuckAfter = TimeSpan.FromMinutes(settings.WholeNumber("Durable:StuckAfterMinutes", 60, 1, 7 * 24 * 60)),
        };
    }
}
