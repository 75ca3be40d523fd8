using AgentCrm.Core.Durable.Api;
using AgentCrm.Core.Durable.Runtime;
using Npgsql;
using NpgsqlTypes;

namespace AgentCrm.Core.Durable.Store;

/// <summary>
/// Rewinding a failed instance: its history is cut back to the start of the turn that saw the first failure
/// and it runs on from there. Results that turn and later ones had consumed are delivered again, activities
/// still owed a result are dispatched again (with the options their TaskScheduled event kept), timers still
/// due are armed again, and a failed sub-orchestration is rewound with it. Everything the code scheduled
/// after the cut it schedules again on replay: at-least-once, as after a crash.
/// </summary>
public sealed partial class TaskHubStore
{
    public async Task<RewindResult> RewindAsync(string instanceId, string? reason, string? scope, CancellationToken cancellationToken)
    {
        await using var connection = await Db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (scope is not null)
        {
            await using var scoping = new NpgsqlBatch(connection, transaction) { BatchCommands = { ScopedBatch.Scope(scope) } };
            await scoping.ExecuteNonQueryAsync(cancellationToken);
        }

        var result = await RewindOneAsync(connection, transaction, instanceId, reason, scope, [], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    private async Task<RewindResult> RewindOneAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string instanceId, string? reason, string? scope, HashSet<string> queues, CancellationToken cancellationToken)
    {
        OrchestrationStatus status;
        Guid executionId;
        await using (var command = new NpgsqlCommand(
            "SELECT status, execution_id FROM dt.instances WHERE instance_id = $1 AND ($2::text IS NULL OR scope = $2) FOR UPDATE", connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = instanceId });
            command.Parameters.Add(ScopedBatch.Parameter(TypedNull.Or(scope)));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return new RewindResult(null, queues);
            }

            (status, executionId) = ((OrchestrationStatus)reader.GetInt16(0), reader.GetGuid(1));
        }

        if (status != OrchestrationStatus.Failed)
        {
            return new RewindResult(status, queues);
        }

        var history = await ReadRewindHistoryAsync(connection, transaction, instanceId, executionId, cancellationToken);
        var plan = RewindPlan.For(history);
        foreach (var child in plan.UnresolvedChildren)
        {
            var outcome = await ResolveChildAsync(connection, transaction, instanceId, executionId, child, reason, queues, cancellationToken);
            if (outcome is not null)
            {
                plan.Redeliver.Add(outcome);
            }
        }

        await using var batch = new NpgsqlBatch(connection, transaction);
        void Add(string sql, params object?[] values)
        {
            var command = new NpgsqlBatchCommand(sql);
            foreach (var value in values)
            {
                command.Parameters.Add(ScopedBatch.Parameter(value));
            }

            batch.BatchCommands.Add(command);
        }

        Add("DELETE FROM dt.history WHERE instance_id = $1 AND execution_id = $2 AND seq >= $3", instanceId, executionId, plan.Cut);
        Add("DELETE FROM dt.tasks WHERE instance_id = $1 AND execution_id = $2", instanceId, executionId);
        Add("DELETE FROM dt.inbox WHERE instance_id = $1", instanceId);
        var reasonId = Guid.CreateVersion7();
        Add("INSERT INTO dt.payloads (instance_id, id, data) VALUES ($1, $2, $3)", instanceId, reasonId, DurableJson.Serialize(reason ?? "Rewound by an operator.")!);
        // The rewind marker first, then what is delivered again, in the order it first arrived.
        Add("INSERT INTO dt.inbox (instance_id, execution_id, kind, payload_id) VALUES ($1, $2, 18, $3)", instanceId, executionId, reasonId);
        if (plan.NeedsStart)
        {
            // It failed in its first turn (or without running at all): the cut took its start with it.
            Add("INSERT INTO dt.inbox (instance_id, execution_id, kind, payload_id) SELECT $1, $2, 1, input_id FROM dt.instances WHERE instance_id = $1", instanceId, executionId);
        }

        if (plan.CutChildren.Count > 0)
        {
            // Children created after the cut are created again on replay, under the same deterministic ids: the old
            // ones go, with their own children (a worker still holding one loses its lease; its writes are fenced).
            Add($"""
                WITH RECURSIVE doomed AS (
                    SELECT instance_id FROM dt.instances WHERE parent_instance_id = $1 AND parent_execution_id = $2 AND parent_task_id = ANY($3)
                    UNION
                    SELECT c.instance_id FROM dt.instances c JOIN doomed d ON c.parent_instance_id = d.instance_id),
                     gone AS (DELETE FROM dt.instances WHERE instance_id IN (SELECT instance_id FROM doomed) RETURNING instance_id)
                {PurgeRowsOf("gone")}
                SELECT count(*) FROM gone
                """, instanceId, executionId, plan.CutChildren.ToArray());
        }

        foreach (var message in plan.Redeliver)
        {
            Add("INSERT INTO dt.inbox (instance_id, execution_id, kind, task_id, name, payload_id, visible_at) VALUES ($1, $2, $3, $4, $5, $6, coalesce($7, now()))",
                instanceId, executionId, (short)message.Kind, message.TaskId, TypedNull.Or(message.Name), (object?)message.PayloadId ?? new TypedNull(NpgsqlDbType.Uuid),
                TypedNull.Or(message.VisibleAt));
        }

        foreach (var task in plan.Dispatch)
        {
            var options = task.Options ?? StoredTaskOptions.Default;
            queues.Add(options.Queue);
            Add("""
                INSERT INTO dt.tasks (queue, instance_id, execution_id, task_id, name, input_id, retry, start_to_close_ms, schedule_to_close_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, now() + $9 * interval '1 millisecond')
                """, options.Queue, instanceId, executionId, task.TaskId, task.Name, (object?)task.InputId ?? new TypedNull(NpgsqlDbType.Uuid),
                options.Retry is null ? TypedNull.Text : DurableJson.Serialize(options.Retry), (object?)options.StartToCloseMs ?? new TypedNull(NpgsqlDbType.Bigint),
                (object?)options.ScheduleToCloseMs ?? new TypedNull(NpgsqlDbType.Bigint));
        }

        Add("""
            UPDATE dt.instances SET status = 1, failure = NULL, output_id = NULL, completed_at = NULL, updated_at = now(), lease_owner = NULL,
                   lease_expires_at = NULL, dispatch_count = 0, history_events = $2, lease_epoch = lease_epoch + 1,
                   history_bytes = (SELECT coalesce(sum(coalesce(length(p.data), 0) + coalesce(length(h.name), 0) + 32), 0)
                                      FROM dt.history h LEFT JOIN dt.payloads p ON p.instance_id = h.instance_id AND p.id = h.payload_id
                                     WHERE h.instance_id = $1 AND h.execution_id = $3)
             WHERE instance_id = $1
            """, instanceId, plan.Cut, executionId);
        await batch.ExecuteNonQueryAsync(cancellationToken);
        return new RewindResult(OrchestrationStatus.Failed, queues);
    }

    /// <summary>A sub-orchestration the cut left without its result: rewound if it failed, its result delivered if it completed since.</summary>
    private async Task<RewindPlan.Message?> ResolveChildAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string parentId, Guid parentExecution, int taskId, string? reason, HashSet<string> queues,
        CancellationToken cancellationToken)
    {
        string childId;
        OrchestrationStatus childStatus;
        string? output;
        await using (var command = new NpgsqlCommand("""
            SELECT c.instance_id, c.status, (SELECT data FROM dt.payloads p WHERE p.instance_id = c.instance_id AND p.id = c.output_id)
              FROM dt.instances c WHERE c.parent_instance_id = $1 AND c.parent_execution_id = $2 AND c.parent_task_id = $3
             ORDER BY c.created_at DESC
             LIMIT 1
            """, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parentId });
            command.Parameters.Add(new NpgsqlParameter { Value = parentExecution });
            command.Parameters.Add(new NpgsqlParameter { Value = taskId });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                throw new InvalidOperationException($"Sub-orchestration task {taskId} of '{parentId}' no longer exists (purged?); the instance cannot be rewound.");
            }

            (childId, childStatus, output) = (reader.GetString(0), (OrchestrationStatus)reader.GetInt16(1), reader.IsDBNull(2) ? null : reader.GetString(2));
        }

        switch (childStatus)
        {
            case OrchestrationStatus.Failed:
                await RewindOneAsync(connection, transaction, childId, reason, scope: null, queues, cancellationToken);
                return null; // it reports to the parent when it finishes
            case OrchestrationStatus.Completed:
                Guid? payloadId = output is null ? null : Guid.CreateVersion7();
                if (payloadId is not null)
                {
                    await ExecuteAsync(connection, transaction, "INSERT INTO dt.payloads (instance_id, id, data) VALUES ($1, $2, $3)", cancellationToken, parentId, payloadId, output!);
                }

                return new RewindPlan.Message(EventKind.SubOrchestrationCompleted, taskId, null, payloadId, null);
            case OrchestrationStatus.Terminated:
                throw new InvalidOperationException($"Sub-orchestration '{childId}' was terminated; the instance cannot be rewound past it.");
            default:
                return null; // still running: its result will come
        }
    }

    private static async Task<List<RewindPlan.Event>> ReadRewindHistoryAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string instanceId, Guid executionId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT h.seq, h.kind, h.task_id, h.name, h.payload_id, h.options::text, CASE WHEN h.kind = 6 THEN p.data END
              FROM dt.history h LEFT JOIN dt.payloads p ON p.instance_id = h.instance_id AND p.id = h.payload_id
             WHERE h.instance_id = $1 AND h.execution_id = $2
             ORDER BY h.seq
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = instanceId });
        command.Parameters.Add(new NpgsqlParameter { Value = executionId });
        var events = new List<RewindPlan.Event>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(new RewindPlan.Event(reader.GetInt32(0), (EventKind)reader.GetInt16(1), reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetGuid(4), reader.IsDBNull(5) ? null : DurableJson.Deserialize<StoredTaskOptions>(reader.GetString(5)),
                reader.IsDBNull(6) ? null : reader.GetString(6)));
        }

        return events;
    }
}

/// <summary>What a rewind found: the status before (null: no such instance) and the task queues it dispatched to.</summary>
public sealed record RewindResult(OrchestrationStatus? Status, IReadOnlySet<string> Queues);
