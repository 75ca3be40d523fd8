using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Hosting;
using AgentCrm.Core.Platform.Maintenance;

namespace AgentCrm.Core.Audit;

/// <summary>
/// Removes audit rows older than <see cref="AuditOptions.Retention"/> (365 days by default). Each chain loses
/// a prefix only, and <c>app.audit_prune</c> anchors the last removed row in the same transaction, so the
/// first kept row still verifies. A few chains per call keep each transaction short; a killed run leaves
/// whole chains pruned or untouched, and the next run carries on.
/// </summary>
public sealed class AuditRetentionJob(PostgresDataSources data, AuditOptions options, TimeProvider time) : IHousekeepingJob
{
    private const int ChainsPerCall = 50;

    public string Name => "audit.retention";

    public TimeSpan Lease => TimeSpan.FromMinutes(5);

    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - options.Retention;
        long chains = 0, rows = 0;
        while (true)
        {
            await using var command = data.Pooled.CreateCommand("SELECT pruned_rows FROM app.audit_prune($1, $2)").Args(cutoff, ChainsPerCall);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var pruned = 0;
            while (await reader.ReadAsync(cancellationToken))
            {
                pruned++;
                rows += reader.GetInt64(0);
            }

            chains += pruned;
            if (pruned < ChainsPerCall)
            {
                return $"Pruned {rows} audit row(s) older than {options.Retention.TotalDays:0} days from {chains} chain(s); each anchored.";
            }
        }
    }
}
