using Npgsql;

namespace AgentCrm.Core.Durable.Store;

/// <summary>Statements for limits and housekeeping: history size, retention purge, the stuck-instance report.</summary>
public sealed partial class TaskHubStore
{
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
