using AgentCrm.Core.Durable.Store;
using AgentCrm.Core.Platform.Data;
using Npgsql;
using NpgsqlTypes;

namespace AgentCrm.Core.Durable.Queues;

/// <summary>
/// The statements of queue functions, one round trip each. Every write to a leased message is fenced by
/// owner and lease epoch: a worker whose lease lapsed (and whose message another worker took) changes nothing.
/// Times are the database's (now()), as for every other lease in the task hub.
/// </summary>
public sealed class QueueStore(PostgresDataSources dataSources)
{
    private NpgsqlDataSource Db => dataSources.Pooled;

    /// <summary>Adds a message, or with a dedupe key already on the queue returns that message's id.</summary>
    public async Task<EnqueueResult> EnqueueAsync(string queue, string payload, string? dedupeKey, TimeSpan delay, string? scope, CancellationToken cancellationToken)
    {
        // The key's message may be handled and deleted between the conflict and the read: then insert again.
        for (var attempt = 0; ; attempt++)
        {
            await using var command = Db.CreateCommand("""
                WITH added AS (
                    INSERT INTO dt.queue_messages (queue, payload, dedupe_key, scope, visible_at)
                    VALUES ($1, $2, $3, $4, now() + $5)
                    ON CONFLICT (queue, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
                    RETURNING id)
                SELECT id, false FROM added
                UNION ALL
                SELECT id, true FROM dt.queue_messages WHERE queue = $1 AND dedupe_key = $3 AND NOT EXISTS (SELECT 1 FROM added)
                """);
            command.Parameters.Add(new NpgsqlParameter { Value = queue });
            command.Parameters.Add(new NpgsqlParameter { Value = payload });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)dedupeKey ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)scope ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = delay });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                return new EnqueueResult(reader.GetInt64(0), reader.GetBoolean(1));
            }

            if (attempt >= 5)
            {
                throw new InvalidOperationException($"Dedupe key '{dedupeKey}' on queue '{queue}' kept conflicting with a message that was gone when read.");
            }
        }
    }

    /// <summary>Adds many messages in one statement; ids in the order of <paramref name="payloads"/>.</summary>
    public async Task<IReadOnlyList<long>> EnqueueManyAsync(string queue, string[] payloads, TimeSpan delay, string? scope, CancellationToken cancellationToken)
    {
        await using var command = Db.CreateCommand("""
            INSERT INTO dt.queue_messages (queue, payload, scope, visible_at)
            SELECT $1, p, $3, now() + $4 FROM unnest($2::text[]) WITH ORDINALITY AS u(p, n) ORDER BY n
            RETURNING id
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = queue });
        command.Parameters.Add(new NpgsqlParameter { Value = payloads });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)scope ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = delay });
        var ids = new List<long>(payloads.Length);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetInt64(0));
        }

        ids.Sort(); // identity values follow the insert order
        return ids;
    }

    /// <summary>Leases up to <paramref name="batch"/> visible messages, oldest first; the lease hides them for <paramref name="visibility"/>.</summary>
    internal async Task<IReadOnlyList<QueueMessage>> LockAsync(string queue, string owner, TimeSpan visibility, int batch, CancellationToken cancellationToken)
    {
        await using var leaseBatch = TaskHubStore.LeaseBatch(Db);
        var command = new NpgsqlBatchCommand("""
            WITH next AS (
                SELECT id FROM dt.queue_messages
                 WHERE queue = $1 AND visible_at <= now()
                 ORDER BY visible_at, id
                 LIMIT $4
                 FOR UPDATE SKIP LOCKED)
            UPDATE dt.queue_messages m
               SET lease_owner = $2, lease_expires_at = now() + $3, visible_at = now() + $3, lease_epoch = m.lease_epoch + 1,
                   dequeue_count = m.dequeue_count + 1, first_dequeued_at = coalesce(m.first_dequeued_at, now())
              FROM next
             WHERE m.id = next.id
            RETURNING m.id, m.queue, m.payload, m.scope, m.dequeue_count, m.lease_epoch, m.created_at
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = queue });
        command.Parameters.Add(new NpgsqlParameter { Value = owner });
        command.Parameters.Add(new NpgsqlParameter { Value = visibility });
        command.Parameters.Add(new NpgsqlParameter { Value = batch });
        leaseBatch.BatchCommands.Add(command);
        var messages = new List<QueueMessage>();
        await using var reader = await leaseBatch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken); // past set_config's row
        while (await reader.ReadAsync(cancellationToken))
        {
            messages.Add(new QueueMessage(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.GetInt32(4), reader.GetInt64(5), reader.GetDateTime(6)));
        }

        return messages;
    }

    /// <summary>Extends this worker's leases; returns the ids it no longer holds.</summary>
    internal async Task<IReadOnlySet<long>> RenewAsync(string owner, IReadOnlyCollection<long> ids, TimeSpan visibility, CancellationToken cancellationToken)
    {
        await using var leaseBatch = TaskHubStore.LeaseBatch(Db);
        var command = new NpgsqlBatchCommand("""
            UPDATE dt.queue_messages SET lease_expires_at = now() + $3, visible_at = now() + $3
             WHERE id = ANY($1) AND lease_owner = $2
            RETURNING id
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = ids.ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = owner });
        command.Parameters.Add(new NpgsqlParameter { Value = visibility });
        leaseBatch.BatchCommands.Add(command);
        var held = new HashSet<long>();
        await using var reader = await leaseBatch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            held.Add(reader.GetInt64(0));
        }

        return ids.Where(id => !held.Contains(id)).ToHashSet();
    }

    /// <summary>Handled: the message goes. False when the lease was lost (another worker may be running it).</summary>
    internal Task<bool> CompleteAsync(QueueMessage message, string owner, CancellationToken cancellationToken) =>
        FencedAsync("DELETE FROM dt.queue_messages WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $3", message, owner, cancellationToken);

    /// <summary>
    /// Visible again after <paramref name="delay"/>, with the error kept. A delivery that was not the
    /// message's fault (the app stopping under it) is given back: <paramref name="countDelivery"/> false.
    /// </summary>
    internal Task<bool> RetryAsync(QueueMessage message, string owner, TimeSpan delay, string? error, bool countDelivery, CancellationToken cancellationToken) =>
        FencedAsync("""
            UPDATE dt.queue_messages
               SET visible_at = now() + $4, lease_owner = NULL, lease_expires_at = NULL, last_error = coalesce($5::jsonb, last_error),
                   dequeue_count = dequeue_count - CASE WHEN $6 THEN 0 ELSE 1 END
             WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $3
            """, message, owner, cancellationToken, delay, (object?)error ?? DBNull.Value, countDelivery);

    /// <summary>Moves the message to the dead letters in one statement (so it is never in both or neither).</summary>
    internal Task<bool> DeadLetterAsync(QueueMessage message, string owner, string error, CancellationToken cancellationToken) =>
        FencedAsync("""
            WITH moved AS (
                DELETE FROM dt.queue_messages WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $3
                RETURNING id, queue, payload, scope, dequeue_count, created_at, first_dequeued_at)
            INSERT INTO dt.dead_letters (source, name, queue, payload, message_id, dequeue_count, scope, detail)
            SELECT 'queue', queue, queue, payload, id, dequeue_count, scope,
                   jsonb_build_object('lastError', $4::jsonb, 'enqueuedAt', created_at, 'firstDequeuedAt', first_dequeued_at)
              FROM moved
            """, message, owner, cancellationToken, error);

    /// <summary>When the next hidden message (delayed, retrying, or leased by a worker that may be dead) becomes visible.</summary>
    internal async Task<DateTime?> NextDueAsync(string queue, CancellationToken cancellationToken)
    {
        await using var command = Db.CreateCommand("SELECT min(visible_at) FROM dt.queue_messages WHERE queue = $1 AND visible_at > now()");
        command.Parameters.Add(new NpgsqlParameter { Value = queue });
        return await command.ExecuteScalarAsync(cancellationToken) is DateTime due ? due : null;
    }

    private async Task<bool> FencedAsync(string sql, QueueMessage message, string owner, CancellationToken cancellationToken, params object[] more)
    {
        await using var command = Db.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter { Value = message.Id });
        command.Parameters.Add(new NpgsqlParameter { Value = owner });
        command.Parameters.Add(new NpgsqlParameter { Value = message.Epoch });
        foreach (var value in more)
        {
            command.Parameters.Add(value is DBNull ? new NpgsqlParameter { Value = value, NpgsqlDbType = NpgsqlDbType.Text } : new NpgsqlParameter { Value = value });
        }

        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }
}
