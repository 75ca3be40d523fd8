using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Problems;
using Npgsql;

namespace AgentCrm.Core.Usage;

/// <summary>
/// One model call's usage. <see cref="Id"/> identifies the call: pass a stable one (the workflow step's)
/// and recording it again is a no-op, so a retried step is billed once.
/// </summary>
public sealed record AiUsage(string Agent, string Endpoint, string Model, int InputTokens, int OutputTokens, decimal Cost, Guid? Id = null)
{
    public long Tokens => (long)InputTokens + OutputTokens;
}

/// <summary>A workspace's AI tokens today against its tier's daily budget.</summary>
public sealed record AiBudget(long Used, long Limit, DateTimeOffset ResetsAt)
{
    public long Remaining => Math.Max(0, Limit - Used);
}

/// <summary>
/// AI token accounting (DESIGN.md §6, §8), exact in PostgreSQL because it is billed: every model call is a
/// row of <c>ai_usage</c>, written in the caller's transaction when it passes one (so the usage commits or
/// rolls back with the agent step that spent it), else in one of its own. The daily budget is the sum of
/// today's rows (UTC), checked before a call with <see cref="EnsureAiBudgetAsync"/>.
/// </summary>
public sealed class UsageLedger(PostgresDataSources data, TierPlans plans, TimeProvider time)
{
    public const string AiTokensQuota = "ai-tokens";

    private const string InsertSql = """
        INSERT INTO ai_usage (workspace_id, id, day, occurred_at, agent, endpoint, model, input_tokens, output_tokens, cost)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (workspace_id, id) DO NOTHING
        """;

    private const string UsedSql = "SELECT coalesce(sum(input_tokens::bigint + output_tokens), 0) FROM ai_usage WHERE workspace_id = $1 AND day = $2";

    /// <summary>
    /// Records one model call. With <paramref name="transaction"/> the row is written in it, and that
    /// transaction must already be scoped to <paramref name="workspaceId"/> (a <see cref="TenantSession"/>'s);
    /// row-level security refuses it otherwise. Returns false when a call with the same id was already recorded.
    /// </summary>
    public async Task<bool> RecordAiTokensAsync(Guid workspaceId, AiUsage usage, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(usage.InputTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(usage.OutputTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(usage.Cost);
        var now = time.GetUtcNow();
        object?[] args = [workspaceId, usage.Id ?? Guid.CreateVersion7(now), DateOnly.FromDateTime(now.UtcDateTime), now,
            usage.Agent, usage.Endpoint, usage.Model, usage.InputTokens, usage.OutputTokens, usage.Cost];
        if (transaction is not null)
        {
            await using var command = new NpgsqlCommand(InsertSql, transaction.Connection, transaction).Args(args);
            return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        }

        await using var session = await TenantSession.OpenAsync(data.Pooled, workspaceId, userId: null, write: true, cancellationToken);
        var inserted = await session.ExecuteAsync(InsertSql, cancellationToken, args);
        await session.CommitAsync(cancellationToken);
        return inserted == 1;
    }

    public async Task<AiBudget> GetAiBudgetAsync(Guid workspaceId, string tier, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var session = await TenantSession.OpenAsync(data.Pooled, workspaceId, userId: null, write: false, cancellationToken);
        await using var batch = session.CreateBatch(UsedSql, workspaceId, DateOnly.FromDateTime(now.UtcDateTime));
        await using var reader = await session.ReadAsync(batch, cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new AiBudget(reader.GetInt64(0), plans.For(tier).AiTokensPerDay, UsageKeys.NextMidnight(now));
    }

    /// <summary>
    /// Refuses (429 quota-exceeded, Retry-After until UTC midnight) when today's tokens plus
    /// <paramref name="estimatedTokens"/> would pass the tier's budget; with quotas off it only reads.
    /// </summary>
    public async Task<AiBudget> EnsureAiBudgetAsync(Guid workspaceId, string tier, long estimatedTokens, CancellationToken cancellationToken)
    {
        var budget = await GetAiBudgetAsync(workspaceId, tier, cancellationToken);
        if (plans.QuotasEnabled && budget.Used + Math.Max(0, estimatedTokens) > budget.Limit)
        {
            throw UsageProblems.QuotaExceeded(AiTokensQuota, "AI tokens", budget.Limit, budget.Used, tier, budget.ResetsAt, time.GetUtcNow());
        }

        return budget;
    }
}
