using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Security;

namespace AgentCrm.Core.Workspaces;

/// <summary>
/// Finds the workspace and scopes of a presented API key, or nothing for a wrong, unknown or revoked
/// key. Found keys are cached under the hash of their secret (<see cref="AccessCaches"/>); unknown ones
/// are not, so junk keys cannot crowd the bounded L1 out.
/// </summary>
public sealed class ApiKeyAuthenticator(PostgresDataSources data, AccessCaches caches, ApiKeyUsage usage, TimeProvider time)
{
    public async Task<WorkspaceAccess?> AuthenticateAsync(string presented, CancellationToken cancellationToken)
    {
        if (!ApiKeyFormat.TryParse(presented, out var prefix, out var secret))
        {
            return null;
        }

        var hash = SecretTokens.Hash(secret);
        var key = await caches.ApiKeys.GetOrLoadAsync(AccessCaches.ApiKeyKey(prefix, hash), token => LoadAsync(prefix, hash, token), cancellationToken);
        if (key is null)
        {
            return null;
        }

        await usage.TouchAsync(key.WorkspaceId, key.KeyId, cancellationToken);
        var role = ApiKeyScopes.RoleFor(key.Scopes);
        return new WorkspaceAccess(key.WorkspaceId, role, key.Tier, Caller.Key(key.KeyId, key.WorkspaceId, role));
    }

    private async Task<CachedApiKey?> LoadAsync(string prefix, byte[] hash, CancellationToken cancellationToken)
    {
        // The function also keeps last_used_at to the minute.
        await using var command = data.Pooled.CreateCommand("SELECT workspace_id, key_id, scopes, tier FROM app.authenticate_api_key($1, $2, $3)")
            .Args(prefix, hash, time.GetUtcNow());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var found = new CachedApiKey(reader.GetGuid(0), reader.GetGuid(1), reader.GetFieldValue<string[]>(2), reader.GetString(3));
        usage.Recorded(found.KeyId);
        return found;
    }
}
