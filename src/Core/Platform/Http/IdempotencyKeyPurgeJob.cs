using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Maintenance;

namespace AgentCrm.Core.Platform.Http;

/// <summary>Deletes idempotency keys past their expiry (a claim already treats them as new; this keeps the table small).</summary>
public sealed class IdempotencyKeyPurgeJob(PostgresDataSources data) : IHousekeepingJob
{
    public string Name => "idempotency.purge-expired";

    public TimeSpan Lease => TimeSpan.FromMinutes(2);

    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        await using var command = data.Pooled.CreateCommand("DELETE FROM idempotency_keys WHERE expires_at < now()");
        var deleted = await command.ExecuteNonQueryAsync(cancellationToken);
        return $"Deleted {deleted} expired idempotency key(s).";
    }
}
