using AgentCrm.Core.Durable.Api;
using AgentCrm.Core.Durable.Runtime;
using Npgsql;
using NpgsqlTypes;

namespace AgentCrm.Core.Durable.Store;

/// <summary>Committing a turn: history, outbox and status in one batch, fenced by the instance lease.</summary>
public sealed partial class TaskHubStore
{
    /// <summary>
    /// Commits one turn. Returns the ids of Local tasks it created, leased to <paramref name="owner"/>, for
    /// the caller to run at once. Throws <see cref="LeaseLostException"/> when the lease moved on.
    /// </summary>
    public async Task<IReadOnlyList<TaskWorkItem>> CommitTurnAsync(
        InstanceWorkItem item, string owner, TimeSpan lease, IReadOnlyList<long> consumed, TurnResult turn, CancellationToken cancellationToken,
        TaskWorkItem? finishedLocalTask = null)
    {
        var batch = new TurnBatch(item);
        batch.Add("SELECT dt.assert_instance_lease($1, $2, $3)", item.InstanceId, owner, item.Epoch);
        if (finishedLocalTask is not null)
        {
            // The Local fast path: the activity's result enters this turn directly; its task row goes with it.
            batch.Add("SELECT dt.assert_task_lease($1, $2, $3)", finishedLocalTask.Id, owner, finishedLocalTask.Epoch);
            batch.Add("DELETE FROM dt.tasks WHERE id = $1", finishedLocalTask.Id);
        }

        // Payloads new in this turn are written once; history, tasks and messages reference them.
        var history = turn.NewHistory.Select(e => e.Payload is not null && e.PayloadId is null ? e with { PayloadId = Guid.CreateVersion7() } : e).ToList();
        var newPayloads = history.Where((e, i) => e.PayloadId is not null && turn.NewHistory[i].PayloadId is null).ToList();
        if (newPayloads.Count > 0)
        {
            batch.Add("INSERT INTO dt.payloads (instance_id, id, data) SELECT $1, unnest($2::uuid[]), unnest($3::text[])",
                item.InstanceId, newPayloads.Select(e => e.PayloadId!.Value).ToArray(), newPayloads.Select(e => e.Payload!).ToArray());
        }

        var bytes = history.Sum(e => e.Size);
        if (history.Count > 0)
        {
            // Non-default task options ride on their TaskScheduled event: a rewind dispatches the task again with them.
            var options = turn.Outbox.OfType<ScheduleTaskAction>().Where(t => !StoredTaskOptions.IsDefault(t.Options))
                .ToDictionary(t => t.TaskId, t => DurableJson.Serialize(StoredTaskOptions.From(t.Options)));
            batch.Add("""
                INSERT INTO dt.history (instance_id, execution_id, seq, kind, task_id, name, payload_id, ts, options)
                SELECT $1, $2, unnest($3::int[]), unnest($4::smallint[]), unnest($5::int[]), unnest($6::text[]), unnest($7::uuid[]), unnest($8::timestamptz[]),
                       unnest($9::jsonb[])
                """,
                item.InstanceId, item.ExecutionId, Enumerable.Range(item.HistoryEvents, history.Count).ToArray(),
                history.Select(e => (short)e.Kind).ToArray(), history.Select(e => e.TaskId).ToArray(), history.Select(e => e.Name).ToArray(),
                history.Select(e => e.PayloadId).ToArray(), history.Select(e => DateTime.SpecifyKind(e.Timestamp, DateTimeKind.Utc)).ToArray(),
                history.Select(e => e.Kind == EventKind.TaskScheduled ? options.GetValueOrDefault(e.TaskId) : null).ToArray());
        }

        if (consumed.Count > 0)
        {
            batch.Add("DELETE FROM dt.inbox WHERE id = ANY($1)", consumed.ToArray());
        }

        var localTaskIndex = AddOutbox(batch, item, owner, lease, turn.Outbox, history, turn.Outcome is not null);
        AddOutcome(batch, item, turn, history, bytes);

        try
        {
            return await batch.ExecuteAsync(Db, localTaskIndex, cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == LeaseLostState)
        {
            throw new LeaseLostException(ex.MessageText, ex);
        }
    }

    /// <summary>Fails an instance without running it (poison, non-determinism, unknown orchestrator), consuming its messages.</summary>
    public async Task FailInstanceAsync(InstanceWorkItem item, string owner, TaskFailureDetails failure, DateTime now, CancellationToken cancellationToken, TaskWorkItem? finishedLocalTask = null)
    {
        var turn = new TurnResult(
            [new HistoryEvent(EventKind.OrchestratorStarted, -1, null, null, now), new HistoryEvent(EventKind.ExecutionFailed, -1, null, DurableJson.Serialize(failure), now)],
            [], new FailedOutcome(failure), null, false);
        await CommitTurnAsync(item, owner, TimeSpan.Zero, [], turn, cancellationToken, finishedLocalTask);
    }

    private static int AddOutbox(TurnBatch batch, InstanceWorkItem item, string owner, TimeSpan lease, IReadOnlyList<OutboxAction> outbox, List<HistoryEvent> history, bool endsExecution)
    {
        var localTaskIndex = -1;
        var tasks = outbox.OfType<ScheduleTaskAction>().ToList();
        if (tasks.Count > 0)
        {
            // The task's input is the TaskScheduled event's payload: same id, one copy.
            var inputIds = tasks.Select(t => history.First(e => e.Kind == EventKind.TaskScheduled && e.TaskId == t.TaskId).PayloadId).ToArray();
            // No Local run for work of an execution that ends in this very turn.
            var local = tasks.Select(t => t.Options.Dispatch == DispatchMode.Local && !endsExecution).ToArray();
            localTaskIndex = batch.Add("""
                INSERT INTO dt.tasks (queue, instance_id, execution_id, task_id, name, input_id, retry, start_to_close_ms, schedule_to_close_at,
                                      lease_owner, lease_expires_at, lease_epoch)
                SELECT t.queue, $1, $2, t.task_id, t.name, t.input_id, t.retry, t.start_to_close_ms,
                       CASE WHEN t.schedule_to_close_ms IS NULL THEN NULL ELSE now() + t.schedule_to_close_ms * interval '1 millisecond' END,
                       CASE WHEN t.local THEN $3 END, CASE WHEN t.local THEN now() + $4 END, CASE WHEN t.local THEN 1 ELSE 0 END
                  FROM unnest($5::text[], $6::int[], $7::text[], $8::uuid[], $9::jsonb[], $10::bigint[], $11::bigint[], $12::bool[])
                       AS t(queue, task_id, name, input_id, retry, start_to_close_ms, schedule_to_close_ms, local)
                RETURNING id, queue, task_id, name, attempt, lease_epoch, lease_owner IS NOT NULL, created_at
                """,
                item.InstanceId, item.ExecutionId, owner, lease,
                tasks.Select(t => t.Options.Queue).ToArray(), tasks.Select(t => t.TaskId).ToArray(), tasks.Select(t => t.Name).ToArray(), inputIds,
                tasks.Select(t => t.Options.Retry is null ? null : DurableJson.Serialize(StoredRetryPolicy.From(t.Options.Retry))).ToArray(),
                tasks.Select(t => t.Options.StartToCloseTimeout is { } s ? (long?)s.TotalMilliseconds : null).ToArray(),
                tasks.Select(t => t.Options.ScheduleToCloseTimeout is { } s ? (long?)s.TotalMilliseconds : null).ToArray(), local);
            batch.LocalTasks = tasks.Where((t, i) => local[i]).ToDictionary(t => t.TaskId);
        }

        var timers = outbox.OfType<CreateTimerAction>().ToList();
        if (timers.Count > 0)
        {
            batch.Add("""
                INSERT INTO dt.inbox (instance_id, execution_id, kind, task_id, visible_at)
                SELECT $1, $2, 7, unnest($3::int[]), unnest($4::timestamptz[])
                """, item.InstanceId, item.ExecutionId, timers.Select(t => t.TaskId).ToArray(), timers.Select(t => t.FireAt).ToArray());
        }

        var children = outbox.OfType<StartSubOrchestrationAction>().ToList();
        if (children.Count > 0)
        {
            var executions = children.Select(_ => Guid.CreateVersion7()).ToArray();
            var inputs = children.Select(c => c.Input is null ? (Guid?)null : Guid.CreateVersion7()).ToArray();
            batch.Add("""
                WITH c AS (SELECT * FROM unnest($3::text[], $4::uuid[], $5::text[], $6::text[], $7::uuid[], $8::text[], $9::int[])
                                    AS c(id, execution_id, name, version, input_id, input, task_id)),
                     created AS (
                        INSERT INTO dt.instances (instance_id, execution_id, name, version, status, scope, input_id, parent_instance_id, parent_execution_id, parent_task_id)
                        SELECT c.id, c.execution_id, c.name, c.version, 0, (SELECT scope FROM dt.instances WHERE instance_id = $1), c.input_id, $1, $2, c.task_id
                          FROM c
                        ON CONFLICT (instance_id) DO NOTHING
                        RETURNING instance_id AS id, execution_id),
                     inputs AS (
                        INSERT INTO dt.payloads (instance_id, id, data)
                        SELECT c.id, c.input_id, c.input FROM c JOIN created USING (id, execution_id) WHERE c.input IS NOT NULL),
                     starts AS (
                        INSERT INTO dt.inbox (instance_id, execution_id, kind, payload_id)
                        SELECT c.id, c.execution_id, 1, c.input_id FROM c JOIN created USING (id, execution_id)),
                     -- An id already in use (or used twice in this turn): the parent gets a catchable failure instead of waiting for ever.
                     clashes AS (SELECT c.task_id, c.id, gen_random_uuid() AS failure_id FROM c WHERE NOT EXISTS (SELECT 1 FROM created WHERE created.id = c.id AND created.execution_id = c.execution_id)),
                     failures AS (
                        INSERT INTO dt.payloads (instance_id, id, data)
                        SELECT $1, failure_id, json_build_object('errorType', 'OrchestrationAlreadyExists',
                               'errorMessage', 'Sub-orchestration instance ''' || id || ''' already exists.', 'attempts', 1)::text FROM clashes)
                INSERT INTO dt.inbox (instance_id, execution_id, kind, task_id, payload_id)
                SELECT $1, $2, 10, task_id, failure_id FROM clashes
                """,
                item.InstanceId, item.ExecutionId,
                children.Select(c => c.InstanceId).ToArray(), executions, children.Select(c => c.Name).ToArray(), children.Select(c => c.Version).ToArray(),
                inputs, children.Select(c => c.Input).ToArray(), children.Select(c => c.TaskId).ToArray());
        }

        var events = outbox.OfType<SendEventAction>().ToList();
        if (events.Count > 0)
        {
            batch.Add("""
                WITH e AS (SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[]) AS e(target, name, payload_id, payload)
                            WHERE EXISTS (SELECT 1 FROM dt.instances i WHERE i.instance_id = e.target AND i.status IN (0, 1, 5))),
                     p AS (INSERT INTO dt.payloads (instance_id, id, data) SELECT target, payload_id, payload FROM e WHERE payload IS NOT NULL)
                INSERT INTO dt.inbox (instance_id, kind, name, payload_id) SELECT target, 11, name, payload_id FROM e
                """,
                events.Select(e => e.InstanceId).ToArray(), events.Select(e => e.EventName).ToArray(),
                events.Select(e => e.Payload is null ? (Guid?)null : Guid.CreateVersion7()).ToArray(), events.Select(e => e.Payload).ToArray());
        }

        var retries = outbox.OfType<RetryTaskAction>().ToList();
        if (retries.Count > 0)
        {
            batch.Add("""
                UPDATE dt.tasks t SET attempt = t.attempt + 1, dequeue_count = 0, visible_at = now() + r.delay_ms * interval '1 millisecond', lease_owner = NULL, lease_expires_at = NULL
                  FROM unnest($3::int[], $4::double precision[]) AS r(task_id, delay_ms)
                 WHERE t.instance_id = $1 AND t.execution_id = $2 AND t.task_id = r.task_id
                """, item.InstanceId, item.ExecutionId, retries.Select(r => r.TaskId).ToArray(), retries.Select(r => r.Delay.TotalMilliseconds).ToArray());
        }

        return localTaskIndex;
    }

    private static void AddOutcome(TurnBatch batch, InstanceWorkItem item, TurnResult turn, List<HistoryEvent> history, long bytes)
    {
        switch (turn.Outcome)
        {
            case null:
                batch.Add("""
                    UPDATE dt.instances SET status = CASE WHEN status = 5 THEN 5 ELSE 1 END, updated_at = now(), lease_owner = NULL, lease_expires_at = NULL, dispatch_count = 0,
                           history_events = history_events + $2, history_bytes = history_bytes + $3,
                           custom_status = CASE WHEN $4 THEN $5 ELSE custom_status END
                     WHERE instance_id = $1
                    """, item.InstanceId, history.Count, bytes, turn.CustomStatusChanged, turn.CustomStatus);
                break;
            case ContinuedAsNewOutcome next:
                AddContinueAsNew(batch, item, next, turn);
                break;
            default:
                AddTerminal(batch, item, turn, history, bytes);
                break;
        }
    }

    private static void AddTerminal(TurnBatch batch, InstanceWorkItem item, TurnResult turn, List<HistoryEvent> history, long bytes)
    {
        var (status, failure) = turn.Outcome switch
        {
            CompletedOutcome => (OrchestrationStatus.Completed, (string?)null),
            FailedOutcome f => (OrchestrationStatus.Failed, DurableJson.Serialize(f.Failure)),
            _ => (OrchestrationStatus.Terminated, null),
        };
        var outputId = status == OrchestrationStatus.Failed ? null : history[^1].PayloadId;
        batch.Add("""
            UPDATE dt.instances SET status = $2, output_id = $3, failure = $4::jsonb, completed_at = now(), updated_at = now(), lease_owner = NULL,
                   lease_expires_at = NULL, dispatch_count = 0, history_events = history_events + $5, history_bytes = history_bytes + $6,
                   custom_status = CASE WHEN $7 THEN $8 ELSE custom_status END
             WHERE instance_id = $1
            """, item.InstanceId, (short)status, outputId, failure, history.Count, bytes, turn.CustomStatusChanged, turn.CustomStatus);

        // Nothing more will be consumed: drop pending messages, drop queued attempts, cancel running ones.
        batch.Add("DELETE FROM dt.inbox WHERE instance_id = $1", item.InstanceId);
        batch.Add("DELETE FROM dt.tasks WHERE instance_id = $1 AND (lease_owner IS NULL OR lease_expires_at < now())", item.InstanceId);
        batch.Add("UPDATE dt.tasks SET cancel_requested = true WHERE instance_id = $1", item.InstanceId);

        if (item.ParentInstanceId is not null)
        {
            // Tell the parent, as a message to the execution that started this child.
            var payload = status == OrchestrationStatus.Failed
                ? DurableJson.Serialize(new TaskFailureDetails(((FailedOutcome)turn.Outcome!).Failure.ErrorType, $"Sub-orchestration '{item.Name}' ({item.InstanceId}) failed: {((FailedOutcome)turn.Outcome!).Failure.ErrorMessage}", null))
                : status == OrchestrationStatus.Terminated
                    ? DurableJson.Serialize(new TaskFailureDetails("Terminated", $"Sub-orchestration '{item.Name}' ({item.InstanceId}) was terminated.", null))
                    : history[^1].Payload;
            var kind = status == OrchestrationStatus.Completed ? EventKind.SubOrchestrationCompleted : EventKind.SubOrchestrationFailed;
            Guid? payloadId = payload is null ? null : Guid.CreateVersion7();
            batch.Add("""
                -- FOR SHARE waits out a rewind of the parent in flight and then sees it live again, so the result is not dropped.
                WITH parent AS (SELECT 1 FROM dt.instances WHERE instance_id = $1 AND execution_id = $2 AND status IN (0, 1, 5) FOR SHARE),
                     p AS (INSERT INTO dt.payloads (instance_id, id, data) SELECT $1, $4, $5 FROM parent WHERE $5::text IS NOT NULL)
                INSERT INTO dt.inbox (instance_id, execution_id, kind, task_id, payload_id) SELECT $1, $2, $6, $3, $4 FROM parent
                """, item.ParentInstanceId, item.ParentExecutionId!.Value, item.ParentTaskId!.Value, (object?)payloadId ?? DBNull.Value,
                (object?)payload ?? DBNull.Value, (short)kind);
        }
    }

    private static void AddContinueAsNew(TurnBatch batch, InstanceWorkItem item, ContinuedAsNewOutcome next, TurnResult turn)
    {
        var executionId = Guid.CreateVersion7();
        Guid? inputId = next.Input is null ? null : Guid.CreateVersion7();
        // The old execution's history, payloads and leftover work go; events that arrived for the instance stay.
        batch.Add("""
            DELETE FROM dt.payloads p USING dt.history h
             WHERE h.instance_id = $1 AND h.execution_id = $2 AND p.instance_id = $1 AND p.id = h.payload_id
            """, item.InstanceId, item.ExecutionId);
        batch.Add("DELETE FROM dt.history WHERE instance_id = $1 AND execution_id = $2", item.InstanceId, item.ExecutionId);
        batch.Add("DELETE FROM dt.tasks WHERE instance_id = $1 AND execution_id = $2", item.InstanceId, item.ExecutionId);
        batch.Add("DELETE FROM dt.inbox WHERE instance_id = $1 AND execution_id = $2", item.InstanceId, item.ExecutionId);
        batch.Add("""
            UPDATE dt.instances SET execution_id = $2, input_id = $3, status = CASE WHEN status = 5 THEN 5 ELSE 1 END, updated_at = now(), lease_owner = NULL, lease_expires_at = NULL,
                   dispatch_count = 0, history_events = 0, history_bytes = 0, custom_status = CASE WHEN $4 THEN $5 ELSE custom_status END
             WHERE instance_id = $1
            """, item.InstanceId, executionId, inputId, turn.CustomStatusChanged, turn.CustomStatus);

        var starts = new List<(short Kind, string? Name, Guid? PayloadId, string? Payload)> { ((short)EventKind.ExecutionStarted, null, inputId, next.Input) };
        starts.AddRange(next.CarriedEvents.Select(e => ((short)EventKind.EventRaised, e.Name, e.Payload is null ? (Guid?)null : Guid.CreateVersion7(), e.Payload)));
        batch.Add("""
            WITH m AS (SELECT * FROM unnest($3::smallint[], $4::text[], $5::uuid[], $6::text[]) WITH ORDINALITY AS m(kind, name, payload_id, payload, n)),
                 p AS (INSERT INTO dt.payloads (instance_id, id, data) SELECT $1, payload_id, payload FROM m WHERE payload IS NOT NULL)
            INSERT INTO dt.inbox (instance_id, execution_id, kind, name, payload_id)
            SELECT $1, CASE WHEN kind = 1 THEN $2 END, kind, name, payload_id FROM m ORDER BY n
            """, item.InstanceId, executionId, starts.Select(s => s.Kind).ToArray(), starts.Select(s => s.Name).ToArray(),
            starts.Select(s => s.PayloadId).ToArray(), starts.Select(s => s.Payload).ToArray());
    }

    /// <summary>The statements of one turn, sent as one batch.</summary>
    private sealed class TurnBatch(InstanceWorkItem item)
    {
        private const int TaskReturningColumns = 8;

        private readonly List<NpgsqlBatchCommand> _commands = [];

        public Dictionary<int, ScheduleTaskAction> LocalTasks { get; set; } = [];

        public int Add(string sql, params object?[] values)
        {
            var command = new NpgsqlBatchCommand(sql);
            foreach (var value in values)
            {
                command.Parameters.Add(value switch
                {
                    Guid?[] ids => new NpgsqlParameter { Value = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid },
                    string?[] texts => new NpgsqlParameter { Value = texts, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                    int?[] numbers => new NpgsqlParameter { Value = numbers, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer },
                    long?[] numbers => new NpgsqlParameter { Value = numbers, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint },
                    null => new NpgsqlParameter { Value = DBNull.Value },
                    _ => new NpgsqlParameter { Value = value },
                });
            }

            _commands.Add(command);
            return _commands.Count - 1;
        }

        public async Task<IReadOnlyList<TaskWorkItem>> ExecuteAsync(NpgsqlDataSource db, int taskInsertIndex, CancellationToken cancellationToken)
        {
            await using var batch = db.CreateBatch();
            foreach (var command in _commands)
            {
                batch.BatchCommands.Add(command);
            }

            // NextResult skips statements that return no rows, so the task insert's RETURNING set is found by its shape.
            var local = new List<TaskWorkItem>();
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            do
            {
                if (taskInsertIndex < 0 || reader.FieldCount != TaskReturningColumns)
                {
                    continue;
                }

                while (await reader.ReadAsync(cancellationToken))
                {
                    if (reader.GetBoolean(6))
                    {
                        var action = LocalTasks[reader.GetInt32(2)];
                        var retry = action.Options.Retry is null ? null : StoredRetryPolicy.From(action.Options.Retry);
                        var scheduledAt = reader.GetDateTime(7);
                        local.Add(new TaskWorkItem(reader.GetInt64(0), reader.GetString(1), item.InstanceId, item.ExecutionId, action.TaskId, reader.GetString(3),
                            action.Input, reader.GetInt32(4), 1, reader.GetInt64(5), retry, action.Options.StartToCloseTimeout,
                            scheduledAt + action.Options.ScheduleToCloseTimeout, scheduledAt, null, false));
                    }
                }
            }
            while (await reader.NextResultAsync(cancellationToken));

            return local;
        }
    }
}
