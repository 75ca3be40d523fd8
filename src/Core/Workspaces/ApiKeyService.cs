using AgentCrm.Core.Audit;
using AgentCrm.Core.Identity;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Problems;
using AgentCrm.Core.Platform.Security;

namespace AgentCrm.Core.Workspaces;

public sealed record ApiKeyView(Guid Id, string Name, string Prefix, string[] Scopes, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt);

public sealed record CreatedApiKey(Guid Id, string Name, string Prefix, string[] Scopes, DateTimeOffset CreatedAt, string Key);

/// <summary>Workspace API keys: the secret is answered once at creation and stored only as its hash.</summary>
public sealed class ApiKeyService(PostgresDataSources data, IAuditLog audit, AccessCaches caches, TimeProvider time)
{
    public async Task<CreatedApiKey> CreateAsync(WorkspaceAccess access, string? name, string[]? scopes, RequestOrigin origin, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var trimmed = name?.Trim();
        if (string.IsNullOrEmpty(trimmed) || trimmed.Length > 100)
        {
            errors["name"] = ["is required and must be at most 100 characters."];
        }

        if (scopes is null || scopes.Length == 0 || scopes.Any(s => !ApiKeyScopes.All.Contains(s)))
        {
            errors["scopes"] = ["must be a non-empty list of read, write, admin."];
        }

        if (errors.Count > 0)
        {
            throw ProblemException.Validation(errors);
        }

        var distinct = scopes!.Distinct(StringComparer.Ordinal).ToArray();
        var now = time.GetUtcNow();
        var id = Guid.CreateVersion7(now);
        var (prefix, secret, key) = ApiKeyFormat.New();
        await using (var session = await TenantSession.OpenAsync(data.Pooled, access.WorkspaceId, access.Caller.UserId, write: true, cancellationToken))
        {
            await session.ExecuteAsync("""
                INSERT INTO api_keys (workspace_id, id, prefix, secret_hash, name, scopes, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """, cancellationToken, access.WorkspaceId, id, prefix, SecretTokens.Hash(secret), trimmed, distinct, access.Caller.UserId, now);
            await session.CommitAsync(cancellationToken);
        }

        await audit.AppendAsync(AuditEntries.Granted(access, origin, "api_key.create",
            new() { ["keyId"] = id.ToString(), ["prefix"] = prefix, ["scopes"] = string.Join(' ', distinct) }), cancellationToken);
        return new CreatedApiKey(id, trimmed!, prefix, distinct, now, key);
    }

    public async Task<IReadOnlyList<ApiKeyView>> ListAsync(WorkspaceAccess access, CancellationToken cancellationToken)
    {
        await using var session = await TenantSession.OpenAsync(data.Pooled, access.WorkspaceId, access.Caller.UserId, write: false, cancellationToken);
        await using var batch = session.CreateBatch("""
            SELECT id, name, prefix, scopes, created_at, last_used_at FROM api_keys WHERE workspace_id = $1 AND revoked_at IS NULL ORDER BY created_at, id
            """, access.WorkspaceId);
        await using var reader = await session.ReadAsync(batch, cancellationToken);
        var keys = new List<ApiKeyView>();
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(new ApiKeyView(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<string[]>(3),
                reader.GetFieldValue<DateTimeOffset>(4), reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5)));
        }

        return keys;
    }

    public async Task RevokeAsync(WorkspaceAccess access, string idText, RequestOrigin origin, CancellationToken cancellationToken)
    {
        (string Prefix, byte[] SecretHash)? revoked = null;
        if (Guid.TryParse(idText, out var id))
        {
            await using var session = await TenantSession.OpenAsync(data.Pooled, access.WorkspaceId, access.Caller.UserId, write: true, cancellationToken);
            await using (var batch = session.CreateBatch("""
                UPDATE api_keys SET revoked_at = $3 WHERE workspace_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING prefix, secret_hash
                """, access.WorkspaceId, id, time.GetUtcNow()))
            await using (var reader = await session.ReadAsync(batch, cancellationToken))
            {
                revoked = await reader.ReadAsync(cancellationToken) ? (reader.GetString(0), reader.GetFieldValue<byte[]>(1)) : null;
            }

            await session.CommitAsync(cancellationToken);
        }

        if (revoked is not { } key)
        {
            throw new ProblemException(ProblemTypes.NotFound, "No such API key in this workspace.");
        }

        // The cache holds the key under the hash of its secret, which is exactly what the row stores.
        await caches.ApiKeyRevokedAsync(key.Prefix, key.SecretHash);
        await audit.AppendAsync(AuditEntries.Admin(access, origin, "api_key.revoke", new() { ["keyId"] = id.ToString() }), cancellationToken);
    }
}
