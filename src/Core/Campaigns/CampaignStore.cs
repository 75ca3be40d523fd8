using AgentCrm.Core.Contacts;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Security;
using AgentCrm.Core.Usage;

namespace AgentCrm.Core.Campaigns;

/// <summary>Campaigns in PostgreSQL, through a <see cref="TenantSession"/>, workspace_id in every condition. Deleted rows are invisible.</summary>
public sealed class CampaignStore(PostgresDataSources data)
{
    private const string AudienceOf = """
        WITH a AS (SELECT audience->>'q' AS q, audience->>'tag' AS tag, audience->>'status' AS status
                   FROM campaigns WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL)
        """;

    private static readonly string AudienceMatches =
        $"FROM contacts c, a WHERE c.workspace_id = $1 AND c.deleted_at IS NULL AND {ContactFilter.Condition("a.q", "a.tag", "a.status")}";

    public const int SampleSize = 5;

    private const string InsertSql = """
        INSERT INTO campaigns (workspace_id, id, name, subject, body, status, audience, created_at, updated_at)
        SELECT $1, $2, $3, $4, $5, $6, $7::jsonb, $8, $8
        """;

    private static readonly string InsertBelowMaxSql = $"{InsertSql} WHERE {TierLimitGuard.Below("campaigns", "$1", "$9")}";

    /// <summary>Inserts the campaign unless the workspace already has <paramref name="max"/> live ones (null: no maximum).</summary>
    public async Task<Campaign> InsertAsync(WorkspaceAccess access, Campaign campaign, int? max, CancellationToken cancellationToken)
    {
        await using var session = await OpenAsync(access, write: true, cancellationToken);
        await using var batch = session.CreateBatch();
        if (max is not null)
        {
            TierLimitGuard.AddLock(batch, TierLimitGuard.Campaigns, access.WorkspaceId);
        }

        var insert = batch.Add(max is null ? InsertSql : InsertBelowMaxSql).Args(access.WorkspaceId, campaign.Id, campaign.Name, campaign.Subject,
            campaign.Body, campaign.Status, campaign.AudienceJson(), campaign.CreatedAt);
        if (max is not null)
        {
            insert.Args(max.Value);
        }

        await session.ExecuteAsync(batch, cancellationToken);
        if (insert.RecordsAffected == 0)
        {
            throw UsageProblems.TierLimitReached(TierLimitGuard.Campaigns, max!.Value, access.Tier);
        }

        await session.CommitAsync(cancellationToken);
        return campaign;
    }

    public async Task<Campaign?> FindAsync(WorkspaceAccess access, Guid id, CancellationToken cancellationToken)
    {
        await using var session = await OpenAsync(access, write: false, cancellationToken);
        await using var batch = session.CreateBatch($"SELECT {Campaign.Columns} FROM campaigns WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL",
            access.WorkspaceId, id);
        await using var reader = await session.ReadAsync(batch, cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Campaign.Read(reader) : null;
    }

    /// <summary>
    /// Reads the row locked, lets <paramref name="change"/> decide the new state (or throw), and writes it
    /// with the next version. The lock serializes concurrent transitions: the later one sees the earlier's result.
    /// </summary>
    public async Task<Campaign?> UpdateAsync(WorkspaceAccess access, Guid id, Func<Campaign, Campaign> change, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var session = await OpenAsync(access, write: true, cancellationToken);
        var current = await LockAsync(session, access, id, cancellationToken);
        if (current is null)
        {
            return null;
        }

        var next = change(current) with { UpdatedAt = now, Version = current.Version + 1 };
        await session.ExecuteAsync("""
            UPDATE campaigns SET name = $3, subject = $4, body = $5, status = $6, audience = $7::jsonb, scheduled_at = $8, updated_at = $9, version = $10
            WHERE workspace_id = $1 AND id = $2
            """, cancellationToken, access.WorkspaceId, id, next.Name, next.Subject, next.Body, next.Status, next.AudienceJson(), next.ScheduledAt,
            now, next.Version);
        await session.CommitAsync(cancellationToken);
        return next;
    }

    /// <summary>Soft delete once <paramref name="allow"/> has seen the locked row (it throws to refuse).</summary>
    public async Task<bool> DeleteAsync(WorkspaceAccess access, Guid id, Action<Campaign> allow, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var session = await OpenAsync(access, write: true, cancellationToken);
        var current = await LockAsync(session, access, id, cancellationToken);
        if (current is null)
        {
            return false;
        }

        allow(current);
        await session.ExecuteAsync("UPDATE campaigns SET deleted_at = $3, updated_at = $3, version = version + 1 WHERE workspace_id = $1 AND id = $2",
            cancellationToken, access.WorkspaceId, id, now);
        await session.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<Page<Campaign>> ListAsync(WorkspaceAccess access, string? status, PageRequest page, CancellationToken cancellationToken)
    {
        await using var session = await OpenAsync(access, write: false, cancellationToken);
        await using var batch = session.CreateBatch($"""
            SELECT {Campaign.Columns} FROM campaigns
            WHERE workspace_id = $1 AND deleted_at IS NULL AND ($2::uuid IS NULL OR id < $2) AND ($3::text IS NULL OR status = $3)
            ORDER BY id DESC LIMIT $4
            """, access.WorkspaceId, page.After, status, page.Limit + 1);
        await using var reader = await session.ReadAsync(batch, cancellationToken);
        var rows = new List<Campaign>(page.Limit + 1);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(Campaign.Read(reader));
        }

        return Page.From(rows, page.Limit, c => c.Id);
    }

    /// <summary>The audience count and a sample in one round trip; null when there is no such campaign.</summary>
    public async Task<CampaignAudience?> AudienceAsync(WorkspaceAccess access, Guid id, CancellationToken cancellationToken)
    {
        await using var session = await OpenAsync(access, write: false, cancellationToken);
        await using var batch = session.CreateBatch();
        batch.Add($"{AudienceOf} SELECT EXISTS (SELECT FROM a), (SELECT count(*) {AudienceMatches})").Args(access.WorkspaceId, id);
        batch.Add($"{AudienceOf} SELECT c.id, c.email, c.name {AudienceMatches} ORDER BY c.id DESC LIMIT {SampleSize}").Args(access.WorkspaceId, id);
        await using var reader = await session.ReadAsync(batch, cancellationToken);
        await reader.ReadAsync(cancellationToken);
        if (!reader.GetBoolean(0))
        {
            return null;
        }

        var count = reader.GetInt64(1);
        await reader.NextResultAsync(cancellationToken);
        var sample = new List<AudienceMember>(SampleSize);
        while (await reader.ReadAsync(cancellationToken))
        {
            sample.Add(new AudienceMember(reader.GetGuid(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        }

        return new CampaignAudience(count, sample);
    }

    private static async Task<Campaign?> LockAsync(TenantSession session, WorkspaceAccess access, Guid id, CancellationToken cancellationToken)
    {
        await using var batch = session.CreateBatch($"SELECT {Campaign.Columns} FROM campaigns WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE",
            access.WorkspaceId, id);
        await using var reader = await session.ReadAsync(batch, cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Campaign.Read(reader) : null;
    }

    private Task<TenantSession> OpenAsync(WorkspaceAccess access, bool write, CancellationToken cancellationToken) =>
        TenantSession.OpenAsync(data.Pooled, access, write, cancellationToken);
}
