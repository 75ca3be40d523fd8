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
    public async Task<OrchestrationMetadata?> GetInstanceAsync(string instanceId, bool withPayloads, CancellationToken cancellationToken)
    {
        await using var command = Db.CreateCommand($"""
            SELECT i.instance_id, i.name, i.version, i.status, i.created_at, i.updated_at, i.completed_at,
                   {(withPayloads ? "(SELECT data FROM dt.payloads p WHERE p.instance_id = i.instance_id AND p.id = i.input_id)" : "NULL")},
                   {(withPayloads ? "(SELECT data FROM dt.payloads p WHERE p.instance_id = i.instance_id AND p.id = i.output_id)" : "NULL")},
                   i.custom_status, i.failure::text, i.history_events, i.execution_id
              FROM dt.instances i
             WHERE i.instance_id = $1
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = instanceId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new OrchestrationMetadata(
            reader.GetString(0), reader.GetString(1), reader.GetString(2), (OrchestrationStatus)reader.GetInt16(3),
            reader.GetDateTime(4), reader.GetDateTime(5), reader.IsDBNull(6) ? null : reader.GetDateTime(6),
            reader.IsDBNull(7) ? null : reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8),
            reader.IsDBNull(9) ? null : reader.GetString(9),
            reader.IsDBNull(10) ? null : DurableJson.Deserialize<TaskFailureDetails>(reader.GetString(10)),
            reader.GetInt32(11), reader.GetGuid(12));
    }

    /// <summary>Queues a message for a live instance (an event, a terminate request); says so when there is none.</summary>
    public async Task<DeliveryResult> SendAsync(string instanceId, EventKind kind, string? name, string? payload, string? dedupeKey, CancellationToken cancellationToken)
    {
        Guid? payloadId = payload is null ? null : Guid.CreateVersion7();
        await using var command = Db.CreateCommand("""
            WITH target AS (SELECT status FROM dt.instances WHERE instance_id = $1),
                 live AS (SELECT 1 FROM target WHERE status IN (0, 1, 5)),
                 p AS (INSERT INTO dt.payloads (instance_id, id, data) SELECT $1, $4, $5 FROM live WHERE $5::text IS NOT NULL),
                 m AS (INSERT INTO dt.inbox (instance_id, kind, name, payload_id, dedupe_key)
                       SELECT $1, $2, $3, $4, $6 FROM live
                       ON CONFLICT (instance_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING)
            SELECT (SELECT status FROM target)
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = instanceId });
        command.Parameters.Add(new NpgsqlParameter { Value = (short)kind });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)name ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)payloadId ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)payload ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)dedupeKey ?? DBNull.Value });
        return await command.ExecuteScalarAsync(cancellationToken) switch
        {
            short status when ((OrchestrationStatus)status).IsTerminal() => DeliveryResult.AlreadyFinished,
            short => DeliveryResult.Delivered,
            _ => DeliveryResult.NotFound,
        };
    }
}
