using Npgsql;

namespace AgentCrm.Core.Durable.Store;

/// <summary>Statements for limits and housekeeping: history size, retention purge, the stuck-instance report.</summary>
public sealed partial class TaskHubStore
{
    /// <summary>An execution's stored history size, read before a replay so an oversized one is never loaded.</summary>
    public async Task<(int Events, long Bytes)> ReadHistorySizeAsync(string instanceId, Guid executionId, CancellationToken cancellationToken)
    {
        await using var command = Db.CreateCommand("SELECT history_events, history_bytes FROM dt.instances WHERE instance_id = $1 AND execution_id = $2");
        command.Parameters.Add(new NpgsqlParameter { Value = instanceId });
        command.Parameters.Add(new NpgsqlParameter { Value = executionId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetInt32(0), reader.GetInt64(1)) : (0, 0);
    }

    /// <summary>
    /// Deletes one batch of instances that finished more than <paramref name="retention"/> ago, with every row
    /// they own, in one statement: at most <paramref name="batch"/> instances and, past the first, about
    /// <paramref name="historyBudget"/> history rows, so no statement holds locks long. A child whose parent is
    /// still live stays (the parent may still read it). Returns how many instances went.
    /// </summary>
    public async Task<int> PurgeFinishedBatchAsync(TimeSpan retention, int batch, int historyBudget, CancellationToken cancellationToken)
    {
        await using var command = Db.CreateCommand("""
            WITH candidates AS (
                SELECT i.instance_id,
                       sum(i.history_events + 1) OVER (ORDER BY i.completed_at, i.instance_id ROWS UNBOUNDED PRECEDING) - (i.history_events + 1) AS before
                  FROM dt.instances i
                 WHERE i.status IN (2, 3, 4) AND i.completed_at < now() - $1
                   AND (i.parent_instance_id IS NULL
                        OR NOT EXISTS (SELECT 1 FROM dt.instances p WHERE p.instance_id = i.parent_instance_id AND p.status IN (0, 1, 5)))
                 ORDER BY i.completed_at, i.instance_id
                 LIMIT $2),
                 doomed AS (
                -- Locked and re-checked: an id started again meanwhile is live and stays.
                SELECT i.instance_id
                  FROM dt.instances i
                 WHERE i.instance_id IN (SELECT instance_id FROM candidates WHERE before < $3)
                   AND i.status IN (2, 3, 4) AND i.completed_at < now() - $1
                   FOR UPDATE SKIP LOCKED),
                 inbox AS (DELETE FROM dt.inbox m USING doomed d WHERE m.instance_id = d.instance_id),
                 history AS (DELETE FROM dt.history h USING doomed d WHERE h.instance_id = d.instance_id),
                 tasks AS (DELETE FROM dt.tasks t USING doomed d WHERE t.instance_id = d.instance_id),
                 payloads AS (DELETE FROM dt.payloads p USING doomed d WHERE p.instance_id = d.instance_id)
            DELETE FROM dt.instances i USING doomed d WHERE i.instance_id = d.instance_id
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = retention });
        command.Parameters.Add(new NpgsqlParameter { Value = batch });
        command.Parameters.Add(new NpgsqlParameter { Value = (long)historyBudget });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Live (Pending or Running, not Suspended) instances with no progress for <paramref name="stuckAfter"/> while
    /// work for them has been ready that long and nobody took it: an inbox message visible since then, or an
    /// activity task ready since then with no live lease. Waiting on a future timer, an event or a running
    /// activity is not stuck. Each part reads only the old end of an index.
    /// </summary>
    public async Task<StuckInstances> FindStuckAsync(TimeSpan stuckAfter, int sample, CancellationToken cancellationToken)
    {
        await using var command = Db.CreateCommand("""
            WITH RECURSIVE queues AS (
                -- The distinct task queues, one index probe each.
                (SELECT queue FROM dt.tasks ORDER BY queue LIMIT 1)
                UNION ALL
                SELECT (SELECT t.queue FROM dt.tasks t WHERE t.queue > q.queue ORDER BY t.queue LIMIT 1) FROM queues q WHERE q.queue IS NOT NULL),
                 work AS (
                SELECT m.instance_id FROM dt.inbox m WHERE m.visible_at < now() - $1
                UNION
                SELECT t.instance_id
                  FROM queues q
                  JOIN LATERAL (SELECT t.instance_id FROM dt.tasks t
                                 WHERE t.queue = q.queue AND t.visible_at < now() - $1
                                   AND (t.lease_expires_at IS NULL OR t.lease_expires_at < now() - $1)) t ON true),
                 stuck AS (
                SELECT i.instance_id FROM dt.instances i JOIN work USING (instance_id)
                 WHERE i.status IN (0, 1) AND i.updated_at < now() - $1)
            SELECT (SELECT count(*) FROM stuck),
                   (SELECT coalesce(array_agg(instance_id), '{}') FROM (SELECT instance_id FROM stuck ORDER BY instance_id LIMIT $2) s)
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = stuckAfter });
        command.Parameters.Add(new NpgsqlParameter { Value = sample });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new StuckInstances(reader.GetInt64(0), reader.GetFieldValue<string[]>(1));
    }
}

/// <summary>How many instances look stuck, and the first few ids (for an operator to look at).</summary>
public sealed record StuckInstances(long Count, IReadOnlyList<string> Sample);
