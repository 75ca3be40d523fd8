using AgentCrm.Core.Campaigns;
using AgentCrm.Core.Contacts;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Security;

namespace AgentCrm.Core.Dashboard;

/// <summary>Counts by status, every status present (zero when none).</summary>
public sealed record StatusCounts(long Total, IReadOnlyDictionary<string, long> ByStatus);

public sealed record DashboardSummary(StatusCounts Contacts, StatusCounts Campaigns);

/// <summary>The workspace at a glance: live contacts and campaigns by status, in one round trip.</summary>
public sealed class DashboardService(PostgresDataSources data)
{
    private const string Sql = """
        SELECT 'contacts', status, count(*) FROM contacts WHERE workspace_id = $1 AND deleted_at IS NULL GROUP BY status
        UNION ALL
        SELECT 'campaigns', status, count(*) FROM campaigns WHERE workspace_id = $1 AND deleted_at IS NULL GROUP BY status
        """;

    public async Task<DashboardSummary> GetAsync(WorkspaceAccess access, CancellationToken cancellationToken)
    {
        var contacts = ContactStatuses.All.ToDictionary(s => s, _ => 0L, StringComparer.Ordinal);
        var campaigns = CampaignStatuses.All.ToDictionary(s => s, _ => 0L, StringComparer.Ordinal);
        await using (var session = await TenantSession.OpenAsync(data.Pooled, access, write: false, cancellationToken))
        await using (var batch = session.CreateBatch(Sql, access.WorkspaceId))
        await using (var reader = await session.ReadAsync(batch, cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var counts = reader.GetString(0) == "contacts" ? contacts : campaigns;
                counts[reader.GetString(1)] = reader.GetInt64(2);
            }
        }

        return new DashboardSummary(new StatusCounts(contacts.Values.Sum(), contacts), new StatusCounts(campaigns.Values.Sum(), campaigns));
    }
}
