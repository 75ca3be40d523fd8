using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Maintenance;

namespace AgentCrm.Core.Durable.Workers;

/// <summary>
/// Deletes messages that can no longer be delivered: those of finished or deleted instances (a result that
/// raced the final turn, say). Dequeue already ignores them; this keeps the inbox from growing.
/// </summary>
public sealed class SweepOrphanInboxJob(PostgresDataSources dataSources) : IHousekeepingJob
{
    public string Name => "durable.sweep-orphan-inbox";

    public TimeSpan Lease => TimeSpan.FromMinutes(2);

    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSources.Pooled.CreateCommand("""
            DELETE FROM dt.inbox m
             WHERE NOT EXISTS (SELECT 1 FROM dt.instances i WHERE i.instance_id = m.instance_id AND i.status IN (0, 1, 5))
               AND m.created_at < now() - interval '1 minute'
            """);
        var deleted = await command.ExecuteNonQueryAsync(cancellationToken);
        return $"Deleted {deleted} undeliverable inbox message(s).";
    }
}
