using AgentCrm.Core.Platform.Data;

namespace AgentCrm.Core.Platform.Maintenance;

/// <summary>Keeps the housekeeping run history to its last 30 days.</summary>
public sealed class PruneMaintenanceHistoryJob(PostgresDataSources dataSources) : IHousekeepingJob
{
    public static readonly TimeSpan Retention = TimeSpan.FromDays(30);

    public string Name => "maintenance.prune-history";

    public TimeSpan Lease => TimeSpan.FromMinutes(2);

    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSources.Pooled.CreateCommand("DELETE FROM maintenance_job_runs WHERE finished_at < now() - $1");
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = Retention });
        var deleted = await command.ExecuteNonQueryAsync(cancellationToken);
        return $"Deleted {deleted} run record(s) older than {Retention.TotalDays:0} days.";
    }
}
