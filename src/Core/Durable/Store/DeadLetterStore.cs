using AgentCrm.Core.Platform.Data;
using Npgsql;

namespace AgentCrm.Core.Durable.Store;

/// <summary>
/// A poison task, instance or queue message, kept for operators. <see cref="Detail"/> is JSON (for a queue
/// message: lastError, enqueuedAt, firstDequeuedAt). <see cref="Payload"/> is the queue message's JSON,
/// and is left out (null) by lists.
/// </summary>
public sealed record DeadLetter(
    long Id, string Source, string Name, string? InstanceId, string? Queue, long? MessageId, int? DequeueCount, string? Scope,
    string Detail, string? Payload, DateTime CreatedAt);

public enum ReplayOutcome
{
    /// <summary>The message is back on its queue (<see cref="ReplayResult.MessageId"/>) and the dead letter is gone.</summary>
    Replayed,

    NotFound,

    /// <summary>A task or instance dead letter: replaying those is the management API's business (rewind, restart).</summary>
    NotAQueueMessage,
}

public readonly record struct ReplayResult(ReplayOutcome Outcome, long? MessageId = null);

/// <summary>
/// Lists, shows, replays and discards dead letters. With a scope, only that workspace's rows exist: a row of
/// another scope behaves exactly as a missing one, in the statement and by row-level security (ScopedBatch). Without one (operators, housekeeping) every row is visible.
/// </summary>
public sealed class DeadLetterStore(PostgresDataSources dataSources, Workers.DurableWakeUps wakeUps)
{
    public const int MaxPage = 500;
    private const string Columns = "id, source, name, instance_id, queue, message_id, dequeue_count, scope, detail::text, created_at";

    private NpgsqlDataSource Db => dataSources.Pooled;

    /// <summary>Oldest first, after <paramref name="afterId"/> (keyset paging), at most <paramref name="limit"/> (1–500). Payloads are left out.</summary>
    public async Task<IReadOnlyList<DeadLetter>> ListAsync(string? scope, string? source, string? queue, int limit, long? afterId, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxPage);
        await using var batch = ScopedBatch.Create(Db, scope, $"""
            SELECT {Columns}, NULL::text FROM dt.dead_letters
             WHERE ($1::text IS NULL OR scope = $1) AND ($2::text IS NULL OR source = $2) AND ($3::text IS NULL OR queue = $3) AND id > $4
             ORDER BY id
             LIMIT $5
            """, TypedNull.Or(scope), TypedNull.Or(source), TypedNull.Or(queue), afterId ?? 0L, limit);
        var rows = new List<DeadLetter>();
        await using var reader = await ScopedBatch.ReadAsync(batch, cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(Read(reader));
        }

        return rows;
    }

    public async Task<DeadLetter?> GetAsync(long id, string? scope, CancellationToken cancellationToken = default)
    {
        await using var batch = ScopedBatch.Create(Db, scope,
            $"SELECT {Columns}, payload FROM dt.dead_letters WHERE id = $1 AND ($2::text IS NULL OR scope = $2)", id, TypedNull.Or(scope));
        await using var reader = await ScopedBatch.ReadAsync(batch, cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <summary>
    /// Puts a queue message's payload back on its queue as a new message (dequeue count 0, same scope) and
    /// deletes the dead letter, in one statement: a replay twice, even at once, enqueues one message.
    /// </summary>
    public async Task<ReplayResult> ReplayAsync(long id, string? scope, CancellationToken cancellationToken = default)
    {
        await using var batch = ScopedBatch.Create(Db, scope, """
            WITH gone AS (
                DELETE FROM dt.dead_letters WHERE id = $1 AND ($2::text IS NULL OR scope = $2) AND source = 'queue'
                RETURNING queue, payload, scope),
                 added AS (
                INSERT INTO dt.queue_messages (queue, payload, scope) SELECT queue, payload, scope FROM gone
                RETURNING id, queue)
            SELECT 'replayed', id, queue FROM added
            UNION ALL
            SELECT 'other', NULL, NULL FROM dt.dead_letters
             WHERE id = $1 AND ($2::text IS NULL OR scope = $2) AND source <> 'queue'
            """, id, TypedNull.Or(scope));
        await using var reader = await ScopedBatch.ReadAsync(batch, cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return new ReplayResult(ReplayOutcome.NotFound);
        }

        if (reader.GetString(0) != "replayed")
        {
            return new ReplayResult(ReplayOutcome.NotAQueueMessage);
        }

        var messageId = reader.GetInt64(1);
        wakeUps.QueueMessageWork(reader.GetString(2));
        return new ReplayResult(ReplayOutcome.Replayed, messageId);
    }

    /// <summary>Deletes the dead letter (of any source); false when there is none (in this scope).</summary>
    public async Task<bool> DiscardAsync(long id, string? scope, CancellationToken cancellationToken = default)
    {
        await using var batch = ScopedBatch.Create(Db, scope, "DELETE FROM dt.dead_letters WHERE id = $1 AND ($2::text IS NULL OR scope = $2) RETURNING 1", id, TypedNull.Or(scope));
        await using var reader = await ScopedBatch.ReadAsync(batch, cancellationToken);
        return await reader.ReadAsync(cancellationToken);
    }

    private static DeadLetter Read(NpgsqlDataReader reader) => new(
        reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
        reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetInt64(5), reader.IsDBNull(6) ? null : reader.GetInt32(6),
        reader.IsDBNull(7) ? null : reader.GetString(7), reader.GetString(8), reader.IsDBNull(10) ? null : reader.GetString(10), reader.GetDateTime(9));
}
