using AgentCrm.Core.Durable.Api;
using AgentCrm.Core.Durable.Runtime;
using Npgsql;

namespace AgentCrm.Core.Durable.Store;

/// <summary>What happened to a message sent to an instance.</summary>
public enum DeliveryResult
{
    Delivered,
    NotFound,
    AlreadyFinished,
}

/// <summary>Client-side reads and messages: status, history, raise event, terminate.</summary>
public sealed partial class TaskHubStore
{
    /// <summary>An instance's state; with <paramref name="scope"/>, only if it belongs to that workspace.</summary>
    public async Task<OrchestrationMetadata?> GetInstanceAsync(string instanceId, bool withPayloads, string? scope, CancellationToken cancellationToken)
    {
        await using var batch = ScopedBatch.Create(Db, scope, $"""
            SELECT {InstanceColumns(withPayloads)}
              FROM dt.instances i
             WHERE i.instance_id = $1 AND ($2::text IS NULL OR i.scope = $2)
            """, instanceId, TypedNull.Or(scope));
        await using var reader = await ScopedBatch.ReadAsync(batch, cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadMetadata(reader) : null;
    }

    private static string InstanceColumns(bool withPayloads) => $"""
        i.instance_id, i.name, i.version, i.status, i.created_at, i.updated_at, i.completed_at,
        {(withPayloads ? "(SELECT data FROM dt.payloads p WHERE p.instance_id = i.instance_id AND p.id = i.input_id)" : "NULL")},
        {(withPayloads ? "(SELECT data FROM dt.payloads p WHERE p.instance_id = i.instance_id AND p.id = i.output_id)" : "NULL")},
        i.custom_status, i.failure::text, i.history_events, i.execution_id, i.scope, i.parent_instance_id
        """;

    private static OrchestrationMetadata ReadMetadata(NpgsqlDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetString(2), (OrchestrationStatus)reader.GetInt16(3),
        reader.GetDateTime(4), reader.GetDateTime(5), reader.IsDBNull(6) ? null : reader.GetDateTime(6),
        reader.IsDBNull(7) ? null : reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8),
        reader.IsDBNull(9) ? null : reader.GetString(9),
        reader.IsDBNull(10) ? null : DurableJson.Deserialize<TaskFailureDetails>(reader.GetString(10)),
        reader.GetInt32(11), reader.GetGuid(12))
    {
        Scope = reader.IsDBNull(13) ? null : reader.GetString(13),
        ParentInstanceId = reader.IsDBNull(14) ? null : reader.GetString(14),
    };

    /// <summary>Queues a message for a live instance (an event, a terminate request); says so when there is none.</summary>
    public async Task<DeliveryResult> SendAsync(
        string instanceId, EventKind kind, string? name, string? payload, string? dedupeKey, string? scope, CancellationToken cancellationToken)
    {
        Guid? payloadId = payload is null ? null : Guid.CreateVersion7();
        await using var batch = ScopedBatch.Create(Db, scope, """
            WITH target AS (SELECT status FROM dt.instances WHERE instance_id = $1 AND ($7::text IS NULL OR scope = $7)),
                 live AS (SELECT 1 FROM target WHERE status IN (0, 1, 5)),
                 p AS (INSERT INTO dt.payloads (instance_id, id, data) SELECT $1, $4, $5 FROM live WHERE $5::text IS NOT NULL),
                 m AS (INSERT INTO dt.inbox (instance_id, kind, name, payload_id, dedupe_key)
                       SELECT $1, $2, $3, $4, $6 FROM live
                       ON CONFLICT (instance_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING)
            SELECT (SELECT status FROM target)
            """, instanceId, (short)kind, TypedNull.Or(name), (object?)payloadId ?? DBNull.Value, TypedNull.Or(payload), TypedNull.Or(dedupeKey), TypedNull.Or(scope));
        await using var reader = await ScopedBatch.ReadAsync(batch, cancellationToken);
        return await reader.ReadAsync(cancellationToken) && !reader.IsDBNull(0)
            ? ((OrchestrationStatus)reader.GetInt16(0)).IsTerminal() ? DeliveryResult.AlreadyFinished : DeliveryResult.Delivered
            : DeliveryResult.NotFound;
    }
}
