using AgentCrm.Core.Durable.Api;
using Npgsql;

namespace AgentCrm.Core.Durable.Store;

/// <summary>Operator actions: query, suspend and resume, purge. Each takes an optional workspace scope.</summary>
public sealed partial class TaskHubStore
{
    private const int PurgeBatch = 1000;
    private const int HistoryRowsPerPurge = 100_000;

    /// <summary>Instances newest first (created time, then id), at most <see cref="InstanceQuery.Limit"/> + 1 rows so the caller knows if more exist.</summary>
    public async Task<List<OrchestrationMetadata>> QueryInstancesAsync(InstanceQuery query, string? scope, CancellationToken cancellationToken)
    {
        await using var batch = ScopedBatch.Create(Db, scope, $"""
            SELECT {InstanceColumns(query.WithInput)}
              FROM dt.instances i
             WHERE ($1::text IS NULL OR i.scope = $1)
               AND ($2::smallint[] IS NULL OR i.status = ANY($2))
               AND ($3::text IS NULL OR i.name = $3)
               AND ($4::timestamptz IS NULL OR i.created_at >= $4)
               AND ($5::timestamptz IS NULL OR i.created_at < $5)
               AND ($6::text IS NULL OR starts_with(i.instance_id, $6))
               AND ($7::timestamptz IS NULL OR (i.created_at, i.instance_id) < ($7, $8::text))
             ORDER BY i.created_at DESC, i.instance_id DESC
             LIMIT $9
            """, TypedNull.Or(scope), query.Statuses is { Count: > 0 } s ? s.Select(x => (short)x).ToArray() : TypedNull.SmallintArray,
            TypedNull.Or(query.Name), TypedNull.Or(query.CreatedFrom), TypedNull.Or(query.CreatedTo), TypedNull.Or(query.IdPrefix),
            TypedNull.Or(query.After?.CreatedAt), TypedNull.Or(query.After?.InstanceId), query.Limit + 1);
        await using var reader = await ScopedBatch.ReadAsync(batch, cancellationToken);
        var rows = new List<OrchestrationMetadata>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(ReadMetadata(reader));
        }

        return rows;
    }

    /// <summary>
    /// Pending or Running → Suspended: workers stop taking its turns (a terminate still gets through); a turn in
    /// flight keeps the suspension (TaskHubStore.Turn). Says whether it changed, and the status now (null: no such instance).
    /// </summary>
    public Task<(bool Changed, OrchestrationStatus? Status)> SuspendAsync(string instanceId, string? scope, CancellationToken cancellationToken) =>
        SetStatusAsync(instanceId, scope, "status IN (0, 1)", "5", cancellationToken);

    /// <summary>Suspended → Running (or Pending if it never ran).</summary>
    public Task<(bool Changed, OrchestrationStatus? Status)> ResumeAsync(string instanceId, string? scope, CancellationToken cancellationToken) =>
        SetStatusAsync(instanceId, scope, "status = 5", "CASE WHEN history_events > 0 THEN 1 ELSE 0 END", cancellationToken);

    private async Task<(bool Changed, OrchestrationStatus? Status)> SetStatusAsync(string instanceId, string? scope, string from, string to, CancellationToken cancellationToken)
    {
        await using (var batch = ScopedBatch.Create(Db, scope, $"""
            UPDATE dt.instances SET status = {to}, updated_at = now()
             WHERE instance_id = $1 AND ($2::text IS NULL OR scope = $2) AND {from}
            RETURNING status
            """, instanceId, TypedNull.Or(scope)))
        {
            await using var reader = await ScopedBatch.ReadAsync(batch, cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                return (true, (OrchestrationStatus)reader.GetInt16(0));
            }
        }

        // Nothing changed: say what it is now (read afresh, so a turn that just finished it shows as finished).
        return (false, (await GetInstanceAsync(instanceId, withPayloads: false, scope, cancellationToken))?.Status);
    }

    /// <summary>Deletes a finished instance and everything of it. Null: no such instance; otherwise its status (purged only if terminal).</summary>
    public async Task<OrchestrationStatus?> PurgeInstanceAsync(string instanceId, string? scope, CancellationToken cancellationToken)
    {
        await using var batch = ScopedBatch.Create(Db, scope, $"""
            WITH gone AS (DELETE FROM dt.instances WHERE instance_id = $1 AND ($2::text IS NULL OR scope = $2) AND status IN (2, 3, 4) RETURNING instance_id)
            {PurgeRowsOf("gone")}
            SELECT status FROM dt.instances WHERE instance_id = $1 AND ($2::text IS NULL OR scope = $2)
            """, instanceId, TypedNull.Or(scope));
        await using var reader = await ScopedBatch.ReadAsync(batch, cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (OrchestrationStatus)reader.GetInt16(0) : null;
    }

    /// <summary>Deletes the finished instances the filter matches, batch after batch, until none is left; returns how many went.</summary>
    public async Task<long> PurgeInstancesAsync(PurgeFilter filter, string? scope, CancellationToken cancellationToken)
    {
        long total = 0;
        while (await PurgeBatchAsync(filter, scope, PurgeBatch, HistoryRowsPerPurge, cancellationToken) is var purged and > 0)
        {
            total += purged;
        }

        return total;
    }

    /// <summary>
    /// Deletes one batch of finished instances matching the filter, with every row they own, in one statement: at
    /// most <paramref name="batch"/> instances and, past the first, about <paramref name="historyBudget"/> history
    /// rows, so no statement holds locks long. A child whose parent is still live stays (the parent may still read
    /// it); an id started again meanwhile is live and stays. Returns how many instances went.
    /// </summary>
    public async Task<int> PurgeBatchAsync(PurgeFilter filter, string? scope, int batch, int historyBudget, CancellationToken cancellationToken)
    {
        var statuses = (filter.Statuses is { Count: > 0 } s ? s : [OrchestrationStatus.Completed, OrchestrationStatus.Failed, OrchestrationStatus.Terminated])
            .Where(x => x.IsTerminal()).Select(x => (short)x).ToArray();
        await using var command = ScopedBatch.Create(Db, scope, """
            WITH candidates AS (
                SELECT i.instance_id,
                       sum(i.history_events + 1) OVER (ORDER BY i.completed_at, i.instance_id ROWS UNBOUNDED PRECEDING) - (i.history_events + 1) AS before
                  FROM dt.instances i
                 WHERE i.status = ANY($2) AND ($1::text IS NULL OR i.scope = $1)
                   AND ($3::timestamptz IS NULL OR i.created_at >= $3) AND ($4::timestamptz IS NULL OR i.created_at < $4)
                   AND ($5::interval IS NULL OR i.completed_at < now() - $5)
                   AND (i.parent_instance_id IS NULL
                        OR NOT EXISTS (SELECT 1 FROM dt.instances p WHERE p.instance_id = i.parent_instance_id AND p.status IN (0, 1, 5)))
                 ORDER BY i.completed_at, i.instance_id
                 LIMIT $6),
                 doomed AS (
                SELECT i.instance_id
                  FROM dt.instances i
                 WHERE i.instance_id IN (SELECT instance_id FROM candidates WHERE before < $7)
                   AND i.status = ANY($2) AND ($5::interval IS NULL OR i.completed_at < now() - $5)
                   FOR UPDATE SKIP LOCKED),
                 inbox AS (DELETE FROM dt.inbox m USING doomed d WHERE m.instance_id = d.instance_id),
                 history AS (DELETE FROM dt.history h USING doomed d WHERE h.instance_id = d.instance_id),
                 tasks AS (DELETE FROM dt.tasks t USING doomed d WHERE t.instance_id = d.instance_id),
                 payloads AS (DELETE FROM dt.payloads p USING doomed d WHERE p.instance_id = d.instance_id),
                 gone AS (DELETE FROM dt.instances i USING doomed d WHERE i.instance_id = d.instance_id RETURNING 1)
            SELECT count(*)::int FROM gone
            """, TypedNull.Or(scope), statuses, TypedNull.Or(filter.CreatedFrom), TypedNull.Or(filter.CreatedTo),
            (object?)filter.CompletedOlderThan ?? new TypedNull(NpgsqlTypes.NpgsqlDbType.Interval), batch, (long)historyBudget);
        await using var reader = await ScopedBatch.ReadAsync(command, cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return reader.GetInt32(0);
    }

    /// <summary>CTEs deleting every row of the instances in <paramref name="gone"/> (a CTE returning instance_id).</summary>
    private static string PurgeRowsOf(string gone) => $"""
        , inbox AS (DELETE FROM dt.inbox WHERE instance_id IN (SELECT instance_id FROM {gone})),
          history AS (DELETE FROM dt.history WHERE instance_id IN (SELECT instance_id FROM {gone})),
          tasks AS (DELETE FROM dt.tasks WHERE instance_id IN (SELECT instance_id FROM {gone})),
          payloads AS (DELETE FROM dt.payloads WHERE instance_id IN (SELECT instance_id FROM {gone}))
        """;
}

/// <summary>What to list: every filter optional; <see cref="After"/> is the last row of the previous page.</summary>
public sealed record InstanceQuery(
    IReadOnlyList<OrchestrationStatus>? Statuses, string? Name, DateTime? CreatedFrom, DateTime? CreatedTo, string? IdPrefix,
    int Limit, (DateTime CreatedAt, string InstanceId)? After, bool WithInput);

/// <summary>Which finished instances to purge (statuses default to all terminal ones; others are never purged); ages are by the database's clock.</summary>
public sealed record PurgeFilter(IReadOnlyList<OrchestrationStatus>? Statuses, DateTime? CreatedFrom, DateTime? CreatedTo, TimeSpan? CompletedOlderThan);
