using AgentCrm.Core.Durable.Runtime;
using Npgsql;

namespace AgentCrm.Core.Durable.Store;

/// <summary>Activity tasks: lease, renew, complete, retry, dead-letter. Every write is fenced by the task's lease.</summary>
public sealed partial class TaskHubStore
{
    public async Task<IReadOnlyList<TaskWorkItem>> LockTasksAsync(string queue, string owner, TimeSpan lease, int batch, CancellationToken cancellationToken)
    {
        await using var leaseBatch = LeaseBatch();
        var command = new NpgsqlBatchCommand("""
            WITH next AS (
                SELECT id FROM dt.tasks
                 WHERE queue = $1 AND visible_at <= now() AND (lease_expires_at IS NULL OR lease_expires_at < now())
                 ORDER BY visible_at, id
                 LIMIT $4
                 FOR UPDATE SKIP LOCKED)
            UPDATE dt.tasks t
               SET lease_owner = $2, lease_expires_at = now() + $3, lease_epoch = t.lease_epoch + 1, dequeue_count = t.dequeue_count + 1
              FROM next
             WHERE t.id = next.id
            RETURNING t.id, t.queue, t.instance_id, t.execution_id, t.task_id, t.name,
                      (SELECT p.data FROM dt.payloads p WHERE p.instance_id = t.instance_id AND p.id = t.input_id),
                      t.attempt, t.dequeue_count, t.lease_epoch, t.retry::text, t.start_to_close_ms, t.schedule_to_close_at, t.created_at,
                      t.heartbeat_details, t.cancel_requested
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = queue });
        command.Parameters.Add(new NpgsqlParameter { Value = owner });
        command.Parameters.Add(new NpgsqlParameter { Value = lease });
        command.Parameters.Add(new NpgsqlParameter { Value = batch });
        leaseBatch.BatchCommands.Add(command);
        var items = new List<TaskWorkItem>();
        await using var reader = await leaseBatch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken); // past set_config's row
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(new TaskWorkItem(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetGuid(3), reader.GetInt32(4), reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetInt32(7), reader.GetInt32(8), reader.GetInt64(9),
                reader.IsDBNull(10) ? null : DurableJson.Deserialize<StoredRetryPolicy>(reader.GetString(10)),
                reader.IsDBNull(11) ? null : TimeSpan.FromMilliseconds(reader.GetInt64(11)),
                reader.IsDBNull(12) ? null : reader.GetDateTime(12), reader.GetDateTime(13),
                reader.IsDBNull(14) ? null : reader.GetString(14), reader.GetBoolean(15)));
        }

        return items;
    }

    /// <summary>
    /// Ends a task: its result (TaskCompleted), its final failure (TaskFailed) or a failed attempt for the
    /// orchestrator to judge (TaskAttemptFailed, which parks the row) goes to the instance's inbox, if the
    /// execution that scheduled it is still running. The message is due from when the work was scheduled,
    /// so results are taken up in scheduling order and a re-run after a crash does not queue behind newer work.
    /// </summary>
    public async Task CompleteTaskAsync(TaskWorkItem task, string owner, EventKind kind, string? payload, CancellationToken cancellationToken)
    {
        await using var batch = Db.CreateBatch();
        batch.BatchCommands.Add(Command("SELECT dt.assert_task_lease($1, $2, $3)", task.Id, owner, task.Epoch));
        Guid? payloadId = payload is null ? null : Guid.CreateVersion7();
        batch.BatchCommands.Add(Command("""
            WITH live AS (SELECT 1 FROM dt.instances WHERE instance_id = $1 AND execution_id = $2 AND status IN (0, 1, 5)),
                 p AS (INSERT INTO dt.payloads (instance_id, id, data) SELECT $1, $5, $6 FROM live WHERE $6::text IS NOT NULL)
            INSERT INTO dt.inbox (instance_id, execution_id, kind, task_id, name, payload_id, visible_at)
            SELECT $1, $2, $3, $4, $7, $5, least($8, now()) FROM live
            """, task.InstanceId, task.ExecutionId, (short)kind, task.TaskId, (object?)payloadId ?? DBNull.Value, (object?)payload ?? DBNull.Value, task.Name,
            DateTime.SpecifyKind(task.FirstScheduledAt, DateTimeKind.Utc)));
        batch.BatchCommands.Add(kind == EventKind.TaskAttemptFailed
            ? Command("UPDATE dt.tasks SET visible_at = 'infinity', dequeue_count = 0, lease_owner = NULL, lease_expires_at = NULL, last_error = $2::jsonb WHERE id = $1", task.Id, (object?)payload ?? DBNull.Value)
            : Command("DELETE FROM dt.tasks WHERE id = $1", task.Id));
        await ExecuteFencedAsync(batch, cancellationToken);
    }

    /// <summary>Another attempt after <paramref name="delay"/>: the row waits, history does not change.</summary>
    public async Task RescheduleTaskAsync(TaskWorkItem task, string owner, TimeSpan delay, string failure, CancellationToken cancellationToken)
    {
        await using var batch = Db.CreateBatch();
        batch.BatchCommands.Add(Command("SELECT dt.assert_task_lease($1, $2, $3)", task.Id, owner, task.Epoch));
        batch.BatchCommands.Add(Command("""
            UPDATE dt.tasks SET attempt = attempt + 1, dequeue_count = 0, visible_at = now() + $2, lease_owner = NULL, lease_expires_at = NULL, last_error = $3::jsonb
             WHERE id = $1
            """, task.Id, delay, failure));
        await ExecuteFencedAsync(batch, cancellationToken);
    }

    /// <summary>A task that kept killing its worker: kept for operators, and its orchestrator gets a catchable failure.</summary>
    public async Task DeadLetterTaskAsync(TaskWorkItem task, string owner, string failure, CancellationToken cancellationToken)
    {
        await using (var command = Db.CreateCommand("INSERT INTO dt.dead_letters (source, instance_id, name, detail, scope) VALUES ('task', $1, $2, $3::jsonb, (SELECT scope FROM dt.instances WHERE instance_id = $1))"))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = task.InstanceId });
            command.Parameters.Add(new NpgsqlParameter { Value = task.Name });
            command.Parameters.Add(new NpgsqlParameter { Value = failure });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await CompleteTaskAsync(task, owner, EventKind.TaskFailed, failure, cancellationToken);
    }

    /// <summary>Extends this worker's task leases; returns the ids it no longer holds and those asked to cancel.</summary>
    public async Task<(IReadOnlySet<long> Lost, IReadOnlySet<long> Cancelled)> RenewTaskLeasesAsync(string owner, IReadOnlyCollection<long> ids, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var leaseBatch = LeaseBatch();
        var command = new NpgsqlBatchCommand("""
            UPDATE dt.tasks SET lease_expires_at = now() + $3
             WHERE id = ANY($1) AND lease_owner = $2
            RETURNING id, cancel_requested
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = ids.ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = owner });
        command.Parameters.Add(new NpgsqlParameter { Value = lease });
        leaseBatch.BatchCommands.Add(command);
        var held = new HashSet<long>();
        var cancelled = new HashSet<long>();
        await using var reader = await leaseBatch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken); // past set_config's row
        while (await reader.ReadAsync(cancellationToken))
        {
            held.Add(reader.GetInt64(0));
            if (reader.GetBoolean(1))
            {
                cancelled.Add(reader.GetInt64(0));
            }
        }

        return (ids.Where(id => !held.Contains(id)).ToHashSet(), cancelled);
    }

    /// <summary>Extends this worker's leases on instances whose turn is still running (only those it still holds).</summary>
    public async Task RenewInstanceLeasesAsync(string owner, IReadOnlyCollection<string> instanceIds, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var leaseBatch = LeaseBatch();
        var command = new NpgsqlBatchCommand("UPDATE dt.instances SET lease_expires_at = now() + $3 WHERE instance_id = ANY($1) AND lease_owner = $2 AND status IN (0, 1, 5)");
        command.Parameters.Add(new NpgsqlParameter { Value = instanceIds.ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = owner });
        command.Parameters.Add(new NpgsqlParameter { Value = lease });
        leaseBatch.BatchCommands.Add(command);
        await leaseBatch.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task HeartbeatAsync(TaskWorkItem task, string owner, string? details, CancellationToken cancellationToken)
    {
        await using var command = Db.CreateCommand("UPDATE dt.tasks SET heartbeat_at = now(), heartbeat_details = $3 WHERE id = $1 AND lease_owner = $2");
        command.Parameters.Add(new NpgsqlParameter { Value = task.Id });
        command.Parameters.Add(new NpgsqlParameter { Value = owner });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)details ?? DBNull.Value });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task ExecuteFencedAsync(NpgsqlBatch batch, CancellationToken cancellationToken)
    {
        try
        {
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == LeaseLostState)
        {
            throw new LeaseLostException(ex.MessageText, ex);
        }
    }

    internal static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return command;
    }
}
