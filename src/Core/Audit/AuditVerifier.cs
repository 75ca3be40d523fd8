using AgentCrm.Core.Platform.Data;
using Npgsql;

namespace AgentCrm.Core.Audit;

/// <summary>
/// Recomputes chains with <c>app.audit_verify</c>, the same hash formula the appends used. A workspace admin
/// checks their own chain in a tenant session; the CLI, as the schema owner, checks every chain.
/// </summary>
public sealed class AuditVerifier(PostgresDataSources data)
{
    private const string Sql = "SELECT workspace_id, valid, checked, first_broken_seq, reason FROM app.audit_verify($1)";

    public async Task<AuditChainStatus> VerifyAsync(Guid workspaceId, Guid? userId, CancellationToken cancellationToken)
    {
        await using var session = await TenantSession.OpenAsync(data.Pooled, workspaceId, userId, write: false, cancellationToken);
        await using var batch = session.CreateBatch(Sql, workspaceId);
        await using var reader = await session.ReadAsync(batch, cancellationToken);
        var found = await ReadAllAsync(reader, cancellationToken);
        return found.Count == 0 ? Empty(workspaceId) : found[0];
    }

    /// <summary>Every chain (or one) on a connection that sees all rows: the schema owner's.</summary>
    public static async Task<IReadOnlyList<AuditChainStatus>> VerifyAsOwnerAsync(NpgsqlDataSource owner, Guid? workspaceId, CancellationToken cancellationToken)
    {
        await using var command = owner.CreateCommand(Sql);
        command.Parameters.Add(new NpgsqlParameter<Guid?> { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid, TypedValue = workspaceId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var found = await ReadAllAsync(reader, cancellationToken);
        return workspaceId is { } id && found.Count == 0 ? [Empty(id)] : found;
    }

    /// <summary>A chain with no entries yet holds trivially.</summary>
    private static AuditChainStatus Empty(Guid workspaceId) => new(workspaceId, true, 0, null, null);

    private static async Task<List<AuditChainStatus>> ReadAllAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        var found = new List<AuditChainStatus>();
        while (await reader.ReadAsync(cancellationToken))
        {
            found.Add(new AuditChainStatus(
                reader.GetGuid(0),
                reader.GetBoolean(1),
                reader.GetInt64(2),
                reader.IsDBNull(3) ? null : reader.GetInt64(3),
                reader.IsDBNull(4) ? null : reader.GetString(4)));
        }

        return found;
    }
}
