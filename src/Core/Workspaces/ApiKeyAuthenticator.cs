using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Security;

namespace AgentCrm.Core.Workspaces;

/// <summary>Finds the workspace and scopes of a presented API key, or nothing for a wrong, unknown or revoked key.</summary>
public sealed class ApiKeyAuthenticator(PostgresDataSources data, TimeProvider time)
{
    public async Task<WorkspaceAccess?> AuthenticateAsync(string presented, CancellationToken cancellationToken)
    {
        if (!ApiKeyFormat.TryParse(presented, out var prefix, out var secret))
        {
            return null;
        }

        await using var command = data.Pooled.CreateCommand("SELECT workspace_id, key_id, scopes, tier FROM app.authenticate_api_key($1, $2, $3)")
            .Args(prefix, SecretTokens.Hash(secret), time.GetUtcNow());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var workspaceId = reader.GetGuid(0);
        var role = ApiKeyScopes.RoleFor(reader.GetFieldValue<string[]>(2));
        return new WorkspaceAccess(workspaceId, role, reader.GetString(3), Caller.Key(reader.GetGuid(1), workspaceId, role));
    }
}
