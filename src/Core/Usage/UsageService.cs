using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.RateLimiting;
using AgentCrm.Core.Platform.Security;

namespace AgentCrm.Core.Usage;

/// <summary>
/// <c>GET /api/usage</c>: today's API calls (the live Redis counter, or the last flushed total when Redis
/// is away), AI tokens (exact, from the ledger), and live contacts and campaigns against the tier's maxima.
/// </summary>
public sealed class UsageService(ApiCallCounter calls, TierPlans plans, RateLimiter limiter, PostgresDataSources data, TimeProvider time)
{
    private const string CountsSql = """
        SELECT (SELECT coalesce(sum(input_tokens::bigint + output_tokens), 0) FROM ai_usage WHERE workspace_id = $1 AND day = $2),
               (SELECT count(*) FROM contacts WHERE workspace_id = $1 AND deleted_at IS NULL),
               (SELECT count(*) FROM campaigns WHERE workspace_id = $1 AND deleted_at IS NULL)
        """;

    public async Task<UsageReport> GetTodayAsync(WorkspaceAccess access, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var day = UsageKeys.Day(now);
        var resetsAt = UsageKeys.NextMidnight(now);
        var plan = plans.For(access.Tier);
        await limiter.FlushAsync(cancellationToken); // this instance's calls counted in process reach Redis first
        var apiCalls = calls.CurrentAsync(access.WorkspaceId, day, cancellationToken);

        long tokens, contacts, campaigns;
        await using (var session = await TenantSession.OpenAsync(data.Pooled, access.WorkspaceId, access.Caller.UserId, write: false, cancellationToken))
        await using (var batch = session.CreateBatch(CountsSql, access.WorkspaceId, UsageKeys.Date(day)))
        await using (var reader = await session.ReadAsync(batch, cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            (tokens, contacts, campaigns) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
        }

        return new UsageReport(access.WorkspaceId, plan.Tier, UsageKeys.Date(day), plans.QuotasEnabled,
            UsageFigure.Of(await apiCalls, plan.ApiCallsPerDay, resetsAt),
            UsageFigure.Of(tokens, plan.AiTokensPerDay, resetsAt),
            UsageFigure.Of(contacts, plan.MaxContacts, null),
            UsageFigure.Of(campaigns, plan.MaxCampaigns, null));
    }
}
