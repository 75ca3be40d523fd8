using System.Net.Http.Headers;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Security;
using Npgsql;

namespace AgentCrm.Functions.Tests.Infrastructure;

public sealed record SeededUser(Guid Id, string Email, string Token, WorkspaceRole Role);

/// <summary>
/// Users, workspaces, members and API keys written straight into the database as its owner, with tokens
/// the app's own codec issues: for tests of features that need a tenant but are not about sign-up.
/// </summary>
public sealed class TenantSeeder(TestDatabase database, TestApp app)
{
    public async Task<Guid> WorkspaceAsync(string tier = "FREE", string name = "Test workspace")
    {
        var owner = await UserAsync();
        var id = Guid.NewGuid();
        await ExecuteAsync("INSERT INTO workspaces (id, name, tier, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, now(), now())", id, name, tier, owner);
        await ExecuteAsync("INSERT INTO workspace_members (workspace_id, user_id, role, created_at) VALUES ($1, $2, 'owner', now())", id, owner);
        return id;
    }

    /// <summary>A member of <paramref name="workspaceId"/> with <paramref name="role"/>, and a token with it active.</summary>
    public async Task<SeededUser> MemberAsync(Guid workspaceId, WorkspaceRole role = WorkspaceRole.Owner)
    {
        var id = await UserAsync();
        await ExecuteAsync("INSERT INTO workspace_members (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, now())", workspaceId, id, role.ToWire());
        await ExecuteAsync("UPDATE users SET active_workspace_id = $1 WHERE id = $2", workspaceId, id);
        // A live session, as a login makes: a switch refuses tokens whose session has ended.
        var session = Guid.NewGuid();
        await ExecuteAsync("INSERT INTO refresh_tokens (token_hash, family_id, user_id, issued_at, expires_at) VALUES ($1, $2, $3, now(), now() + interval '7 days')",
            SecretTokens.Hash(SecretTokens.New()), session, id);
        return new SeededUser(id, $"{id:N}@example.test", Token(id, workspaceId, session), role);
    }

    /// <summary>A workspace with an owner: the usual starting point.</summary>
    public async Task<(Guid WorkspaceId, SeededUser Owner)> WorkspaceWithOwnerAsync(string tier = "FREE")
    {
        var workspace = await WorkspaceAsync(tier);
        return (workspace, await MemberAsync(workspace));
    }

    public async Task<string> ApiKeyAsync(Guid workspaceId, params string[] scopes)
    {
        var (prefix, secret, key) = ApiKeyFormat.New();
        await ExecuteAsync("INSERT INTO api_keys (workspace_id, id, prefix, secret_hash, name, scopes, created_at) VALUES ($1, $2, $3, $4, 'test', $5, now())",
            workspaceId, Guid.NewGuid(), prefix, SecretTokens.Hash(secret), scopes.Length == 0 ? [ApiKeyScopes.Read] : scopes);
        return key;
    }

    public string Token(Guid userId, Guid? workspaceId, Guid? session = null) =>
        app.Services.GetRequiredService<AccessTokenCodec>().Issue(userId, workspaceId, session ?? Guid.NewGuid(), out _);

    public static HttpRequestMessage Request(HttpMethod method, string path, string? bearer, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        if (body is not null)
        {
            request.Content = System.Net.Http.Json.JsonContent.Create(body);
        }

        return request;
    }

    private async Task<Guid> UserAsync()
    {
        var id = Guid.NewGuid();
        await ExecuteAsync("INSERT INTO users (id, email, email_normalized, display_name, created_at, updated_at) VALUES ($1, $2, $2, 'Test user', now(), now())",
            id, $"{id:N}@example.test");
        return id;
    }

    private async Task ExecuteAsync(string sql, params object?[] args)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection).Args(args);
        await command.ExecuteNonQueryAsync();
    }
}
