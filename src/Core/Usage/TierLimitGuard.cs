using AgentCrm.Core.Platform.Data;
using Npgsql;

namespace AgentCrm.Core.Usage;

/// <summary>
/// A tier's maximum (contacts, campaigns) checked in the creating transaction, race-free: an advisory
/// transaction lock per workspace and kind queues concurrent creates, and the insert that follows counts
/// in a snapshot taken after the lock, so two creates at max − 1 cannot both succeed. The count stops at
/// the maximum (LIMIT), so it costs at most that many index entries.
/// </summary>
public static class TierLimitGuard
{
    public const string Contacts = "contacts";
    public const string Campaigns = "campaigns";

    /// <summary>Appends the lock. It must be its own statement, before the insert, so the insert's snapshot follows it.</summary>
    public static void AddLock(NpgsqlBatch batch, string kind, Guid workspaceId) =>
        batch.Add("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))").Args($"tier-limit:{kind}:{workspaceId}");

    /// <summary>A condition that holds while <paramref name="table"/> has fewer than <paramref name="max"/> live rows of the workspace.</summary>
    public static string Below(string table, string workspaceParameter, string max) =>
        $"(SELECT count(*) FROM (SELECT 1 FROM {table} WHERE workspace_id = {workspaceParameter} AND deleted_at IS NULL LIMIT {max}) AS live) < {max}";
}
