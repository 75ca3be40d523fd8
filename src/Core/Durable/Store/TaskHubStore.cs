using AgentCrm.Core.Durable.Api;
using AgentCrm.Core.Durable.Runtime;
using AgentCrm.Core.Platform.Data;
using Npgsql;
using NpgsqlTypes;

namespace AgentCrm.Core.Durable.Store;

/// <summary>
/// Every statement of the task hub. Reads and single writes are one round trip each; a turn's writes
/// go as one batch (one implicit transaction) whose first statement asserts the lease, so a worker that
/// lost its lease changes nothing.
/// </summary>
public sealed partial class TaskHubStore(PostgresDataSources dataSources)
{
    internal const string LeaseLostState = "DTL01";

    private NpgsqlDataSource Db => dataSources.Pooled;

    /// <summary>Creates an instance and its start message in one transaction; a reusable existing id is purged first.</summary>
    public async Task StartAsync(StartRequest request, CancellationToken cancellationToken)
    {
        if (!await TryStartNewAsync(request, cancellationToken))
        {
            await RestartExistingAsync(request, cancellationToken);
        }
    }

    /// <summary>The common case, a new id: instance, input and start message in one statement and one round trip.</summary>
    private async Task<bool> TryStartNewAsync(StartRequest request, CancellationToken cancellationToken)
    {
        await using var command = Db.CreateCommand("""
            WITH created AS (
                INSERT INTO dt.instances (instance_id, execution_id, name, version, status, scope, input_id)
                VALUES ($1, $2, $3, $4, 0, $5, $6)
                ON CONFLICT (instance_id) DO NOTHING
                RETURNING instance_id),
                 input AS (INSERT INTO dt.payloads (instance_id, id, data) SELECT instance_id, $6, $7 FROM created WHERE $6::uuid IS NOT NULL),
                 start AS (INSERT INTO dt.inbox (instance_id, execution_id, kind, payload_id, visible_at)
                           SELECT instance_id, $2, 1, $6, coalesce($8, now()) FROM created)
            SELECT count(*) FROM created
            """);
        Guid? payloadId = request.Input is null ? null : Guid.CreateVersion7();
        command.Parameters.Add(new NpgsqlParameter { Value = request.InstanceId });
        command.Parameters.Add(new NpgsqlParameter { Value = Guid.CreateVersion7() });
        command.Parameters.Add(new NpgsqlParameter { Value = request.Name });
        command.Parameters.Add(new NpgsqlParameter { Value = request.Version });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)request.Scope ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)payloadId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)request.Input ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)request.StartAt ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))! == 1;
    }

    /// <summary>The id exists: refuse if it is still live, else purge it and start it over, in one transaction.</summary>
    private async Task RestartExistingAsync(StartRequest request, CancellationToken cancellationToken)
    {
        await using var connection = await Db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var executionId = Guid.CreateVersion7();
        Guid? payloadId = request.Input is null ? null : Guid.CreateVersion7();
        var inserted = await ScalarAsync<int?>(connection, transaction, """
            INSERT INTO dt.instances (instance_id, execution_id, name, version, status, scope, input_id)
            VALUES ($1, $2, $3, $4, 0, $5, $6)
            ON CONFLICT (instance_id) DO NOTHING
            RETURNING 1
            """, cancellationToken, request.InstanceId, executionId, request.Name, request.Version, (object?)request.Scope ?? DBNull.Value,
            (object?)payloadId ?? DBNull.Value);
        if (inserted is null)
        {
            var (status, owner) = await ReadStatusForUpdateAsync(connection, transaction, request.InstanceId, cancellationToken);
            // An id another workspace (or the system) holds is theirs even once finished: never purged from here.
            if (!status.IsTerminal() || (request.Scope is not null && owner != request.Scope))
            {
                throw new OrchestrationAlreadyExistsException($"Instance '{request.InstanceId}' already exists and is {status}.");
            }

            await PurgeRowsAsync(connection, transaction, request.InstanceId, cancellationToken);
            await ExecuteAsync(connection, transaction, """
                UPDATE dt.instances SET execution_id = $2, name = $3, version = $4, status = 0, scope = $5, input_id = $6, output_id = NULL,
                       custom_status = NULL, failure = NULL, created_at = now(), updated_at = now(), completed_at = NULL, lease_owner = NULL,
                       parent_instance_id = NULL, parent_execution_id = NULL, parent_task_id = NULL,
                       lease_expires_at = NULL, dispatch_count = 0, history_events = 0, history_bytes = 0
                 WHERE instance_id = $1
                """, cancellationToken, request.InstanceId, executionId, request.Name, request.Version, (object?)request.Scope ?? DBNull.Value,
                (object?)payloadId ?? DBNull.Value);
        }

        if (payloadId is not null)
        {
            await ExecuteAsync(connection, transaction, "INSERT INTO dt.payloads (instance_id, id, data) VALUES ($1, $2, $3)",
                cancellationToken, request.InstanceId, payloadId, request.Input!);
        }

        await ExecuteAsync(connection, transaction, """
            INSERT INTO dt.inbox (instance_id, execution_id, kind, payload_id, visible_at)
            VALUES ($1, $2, 1, $3, coalesce($4, now()))
            """, cancellationToken, request.InstanceId, executionId, (object?)payloadId ?? DBNull.Value, (object?)request.StartAt ?? DBNull.Value);
        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task<(OrchestrationStatus Status, string? Scope)> ReadStatusForUpdateAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string instanceId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT status, scope FROM dt.instances WHERE instance_id = $1 FOR UPDATE", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = instanceId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? ((OrchestrationStatus)reader.GetInt16(0), reader.IsDBNull(1) ? null : reader.GetString(1))
            : (OrchestrationStatus.Pending, null);
    }

    /// <summary>Leases up to <paramref name="batch"/> instances that have visible messages and a version this worker knows.</summary>
    public async Task<IReadOnlyList<InstanceWorkItem>> LockInstancesAsync(string owner, TimeSpan lease, int batch, string[] knownKeys, CancellationToken cancellationToken)
    {
        await using var leaseBatch = LeaseBatch();
        var command = new NpgsqlBatchCommand("""
            WITH candidates AS (
                -- Walk the inbox in due order (its index), keeping messages of instances this worker could take
                -- now; those left for finished, leased or unknown-version instances are skipped before the limit.
                SELECT m.instance_id
                  FROM dt.inbox m
                 WHERE m.visible_at <= now()
                   AND EXISTS (SELECT 1 FROM dt.instances i
                                WHERE i.instance_id = m.instance_id AND (i.status IN (0, 1) OR (i.status = 5 AND m.kind = 15))
                                  AND (i.lease_expires_at IS NULL OR i.lease_expires_at < now())
                                  AND i.name || '@' || i.version = ANY($4))
                 ORDER BY m.visible_at
                 LIMIT $3 * 8),
                 ready AS (
                -- Re-checked here because FOR UPDATE re-evaluates these conditions on the newest row version: an
                -- instance whose final turn committed while we waited must not be leased again.
                SELECT i.instance_id
                  FROM dt.instances i
                 WHERE i.instance_id IN (SELECT instance_id FROM candidates)
                   -- A suspended instance runs one turn only to be terminated.
                   AND (i.status IN (0, 1) OR (i.status = 5 AND EXISTS (SELECT 1 FROM dt.inbox t WHERE t.instance_id = i.instance_id AND t.kind = 15)))
                   AND (i.lease_expires_at IS NULL OR i.lease_expires_at < now())
                 LIMIT $3
                 FOR UPDATE SKIP LOCKED)
            UPDATE dt.instances i
               SET lease_owner = $1, lease_expires_at = now() + $2, lease_epoch = i.lease_epoch + 1, dispatch_count = i.dispatch_count + 1
              FROM ready
             WHERE i.instance_id = ready.instance_id
            RETURNING i.instance_id, i.execution_id, i.name, i.version, i.status, i.lease_epoch, i.history_events, i.dispatch_count,
                      i.parent_instance_id, i.parent_execution_id, i.parent_task_id, i.history_bytes
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = owner });
        command.Parameters.Add(new NpgsqlParameter { Value = lease });
        command.Parameters.Add(new NpgsqlParameter { Value = batch });
        command.Parameters.Add(new NpgsqlParameter { Value = knownKeys });
        leaseBatch.BatchCommands.Add(command);
        var items = new List<InstanceWorkItem>();
        await using var reader = await leaseBatch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken); // past set_config's row
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(ReadWorkItem(reader));
        }

        return items;
    }

    /// <summary>
    /// Leases one instance of a known execution if it is free, and reads its inbox in the same round trip: the
    /// Local-dispatch fast path, where the worker that just ran an activity continues the orchestration itself.
    /// Null when someone else holds it (the messages read are then ignored).
    /// </summary>
    public async Task<(InstanceWorkItem Item, IReadOnlyList<InboxMessage> Messages)?> TryLeaseInstanceAsync(
        string instanceId, Guid executionId, string owner, TimeSpan lease, int inboxLimit, CancellationToken cancellationToken)
    {
        await using var leaseBatch = LeaseBatch();
        var command = new NpgsqlBatchCommand("""
            UPDATE dt.instances
               SET lease_owner = $2, lease_expires_at = now() + $3, lease_epoch = lease_epoch + 1, dispatch_count = dispatch_count + 1
             WHERE instance_id = $1 AND execution_id = $4 AND status IN (0, 1) AND (lease_expires_at IS NULL OR lease_expires_at < now())
            RETURNING instance_id, execution_id, name, version, status, lease_epoch, history_events, dispatch_count,
                      parent_instance_id, parent_execution_id, parent_task_id, history_bytes
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = instanceId });
        command.Parameters.Add(new NpgsqlParameter { Value = owner });
        command.Parameters.Add(new NpgsqlParameter { Value = lease });
        command.Parameters.Add(new NpgsqlParameter { Value = executionId });
        leaseBatch.BatchCommands.Add(command);
        var inbox = new NpgsqlBatchCommand(InboxSql);
        inbox.Parameters.Add(new NpgsqlParameter { Value = instanceId });
        inbox.Parameters.Add(new NpgsqlParameter { Value = inboxLimit });
        leaseBatch.BatchCommands.Add(inbox);
        await using var reader = await leaseBatch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        var item = await reader.ReadAsync(cancellationToken) ? ReadWorkItem(reader) : null;
        await reader.NextResultAsync(cancellationToken);
        var messages = await ReadInboxRowsAsync(reader, cancellationToken);
        return item is null ? null : (item, messages);
    }

    private static InstanceWorkItem ReadWorkItem(NpgsqlDataReader reader) => new(
        reader.GetString(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), (OrchestrationStatus)reader.GetInt16(4),
        reader.GetInt64(5), reader.GetInt32(6), reader.GetInt32(7),
        reader.IsDBNull(8) ? null : reader.GetString(8), reader.IsDBNull(9) ? null : reader.GetGuid(9), reader.IsDBNull(10) ? null : reader.GetInt32(10))
    {
        HistoryBytes = reader.GetInt64(11),
    };

    private const string InboxSql = """
        SELECT m.id, m.execution_id, m.kind, m.task_id, m.name, m.payload_id, p.data, m.created_at
          FROM dt.inbox m
          LEFT JOIN dt.payloads p ON p.instance_id = m.instance_id AND p.id = m.payload_id
         WHERE m.instance_id = $1 AND m.visible_at <= now()
         ORDER BY m.id
         LIMIT $2
        """;

    private const string TerminateFirstInboxSql = """
        SELECT m.id, m.execution_id, m.kind, m.task_id, m.name, m.payload_id, p.data, m.created_at
          FROM dt.inbox m
          LEFT JOIN dt.payloads p ON p.instance_id = m.instance_id AND p.id = m.payload_id
         WHERE m.instance_id = $1 AND m.visible_at <= now()
         ORDER BY m.kind = 15 DESC, m.id
         LIMIT $2
        """;

    /// <summary>The visible messages of a leased instance, oldest first (at most <paramref name="limit"/>).</summary>
    public async Task<IReadOnlyList<InboxMessage>> ReadInboxAsync(string instanceId, int limit, CancellationToken cancellationToken, bool terminateFirst = false)
    {
        await using var command = Db.CreateCommand(terminateFirst ? TerminateFirstInboxSql : InboxSql);
        command.Parameters.Add(new NpgsqlParameter { Value = instanceId });
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await ReadInboxRowsAsync(reader, cancellationToken);
    }

    private static async Task<IReadOnlyList<InboxMessage>> ReadInboxRowsAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        var messages = new List<InboxMessage>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var e = new HistoryEvent((EventKind)reader.GetInt16(2), reader.GetInt32(3), reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetDateTime(7))
            {
                PayloadId = reader.IsDBNull(5) ? null : reader.GetGuid(5),
            };
            messages.Add(new InboxMessage(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetGuid(1), e));
        }

        return messages;
    }

    public async Task<IReadOnlyList<HistoryEvent>> ReadHistoryAsync(string instanceId, Guid executionId, CancellationToken cancellationToken)
    {
        await using var command = Db.CreateCommand("""
            SELECT h.kind, h.task_id, h.name, p.data, h.ts, h.payload_id
              FROM dt.history h
              LEFT JOIN dt.payloads p ON p.instance_id = h.instance_id AND p.id = h.payload_id
             WHERE h.instance_id = $1 AND h.execution_id = $2
             ORDER BY h.seq
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = instanceId });
        command.Parameters.Add(new NpgsqlParameter { Value = executionId });
        var history = new List<HistoryEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            history.Add(new HistoryEvent((EventKind)reader.GetInt16(0), reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetDateTime(4))
            {
                PayloadId = reader.IsDBNull(5) ? null : reader.GetGuid(5),
            });
        }

        return history;
    }

    /// <summary>When the next not-yet-visible message or task becomes visible, so idle workers sleep exactly until then.</summary>
    public async Task<DateTime?> NextDueAsync(string? taskQueue, CancellationToken cancellationToken)
    {
        await using var command = taskQueue is null
            ? Db.CreateCommand("SELECT min(visible_at) FROM dt.inbox WHERE visible_at > now()")
            : Db.CreateCommand("SELECT min(visible_at) FROM dt.tasks WHERE queue = $1 AND visible_at > now() AND visible_at < 'infinity'");
        if (taskQueue is not null)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = taskQueue });
        }

        return await command.ExecuteScalarAsync(cancellationToken) is DateTime due ? due : null;
    }

    /// <summary>Everything of an instance except its row (which a reused id then overwrites).</summary>
    private static async Task PurgeRowsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string instanceId, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, transaction, "DELETE FROM dt.inbox WHERE instance_id = $1", cancellationToken, instanceId);
        await ExecuteAsync(connection, transaction, "DELETE FROM dt.history WHERE instance_id = $1", cancellationToken, instanceId);
        await ExecuteAsync(connection, transaction, "DELETE FROM dt.tasks WHERE instance_id = $1", cancellationToken, instanceId);
        await ExecuteAsync(connection, transaction, "DELETE FROM dt.payloads WHERE instance_id = $1", cancellationToken, instanceId);
    }

    private static async Task<int> ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken, params object[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<T?> ScalarAsync<T>(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken, params object[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        var result = await command.ExecuteScalarAsync(cancellationToken);
        return result is null or DBNull ? default : (T)result;
    }

    /// <summary>
    /// A batch for taking or renewing leases. Its commit need not wait for the disk: if a crash loses it,
    /// the lease is simply not held, and every write that matters checks the lease epoch anyway. Its
    /// queries are planned for their actual arguments every time: a prepared dequeue that PostgreSQL
    /// switched to a generic plan was measured stalling the engine for a minute.
    /// </summary>
    private NpgsqlBatch LeaseBatch() => LeaseBatch(Db);

    /// <inheritdoc cref="LeaseBatch()"/>
    internal static NpgsqlBatch LeaseBatch(NpgsqlDataSource db)
    {
        var batch = db.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            "SELECT set_config('synchronous_commit', 'off', true), set_config('plan_cache_mode', 'force_custom_plan', true)"));
        return batch;
    }
}

/// <summary>What starting an instance needs.</summary>
public sealed record StartRequest(string InstanceId, string Name, string Version, string? Input, string? Scope, DateTime? StartAt);
