using AgentCrm.Core.Platform.Data;
using NpgsqlTypes;

namespace AgentCrm.Core.Audit;

/// <summary>
/// Appends through <c>app.audit_append</c>, which assigns the next seq and the hash under the chain's head
/// lock: one round trip, committed when it returns. The platform chain (no workspace) is the nil UUID.
/// </summary>
public sealed class PostgresAuditLog(PostgresDataSources data, TimeProvider time) : IAuditLog
{
    private const string Sql = "SELECT seq FROM app.audit_append($1, $2, $3, $4, $5, $6, $7, $8, $9)";

    public async Task AppendAsync(AuditEvent entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await using var command = data.Pooled.CreateCommand(Sql);
        command.Args(entry.WorkspaceId ?? Guid.Empty, Guid.CreateVersion7(time.GetUtcNow()), time.GetUtcNow(), entry.Event,
            entry.ActorUserId, entry.ActorKeyId, entry.IpAddress, entry.RequestId);
        command.Parameters.Add(new() { NpgsqlDbType = NpgsqlDbType.Jsonb, Value = entry.Details?.ToJsonString() ?? "{}" });
        await command.ExecuteScalarAsync(cancellationToken);
    }
}
