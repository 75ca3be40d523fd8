using AgentCrm.Core.Audit;
using AgentCrm.Core.Identity;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Problems;
using AgentCrm.Core.Platform.Security;
using Npgsql;

namespace AgentCrm.Core.Workspaces;

public sealed record WorkspaceView(Guid Id, string Name, string Tier, string Role, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record WorkspaceSwitched(Guid WorkspaceId, string AccessToken, string TokenType, int ExpiresIn);

/// <summary>Workspaces: create (the creator is its owner), list mine, get, rename, switch the active one.</summary>
public sealed class WorkspaceService(PostgresDataSources data, SessionTokens sessions, IAuditLog audit, TimeProvider time)
{
    private const string ViewColumns = "w.id, w.name, w.tier, m.role, w.created_at, w.updated_at";

    public async Task<WorkspaceView> CreateAsync(Caller caller, string? name, CancellationToken cancellationToken)
    {
        var valid = ValidName(name);
        var now = time.GetUtcNow();
        var id = Guid.CreateVersion7(now);
        var userId = caller.UserId!.Value;
        await using var session = await TenantSession.OpenAsync(data.Pooled, id, userId, write: true, cancellationToken);
        await using var batch = session.CreateBatch("INSERT INTO workspaces (id, name, tier, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
            id, valid, Tiers.Free, userId, now);
        batch.Add("INSERT INTO workspace_members (workspace_id, user_id, role, created_at) VALUES ($1, $2, 'owner', $3)").Args(id, userId, now);
        // The first workspace becomes the active one, so a new user's token works without a switch.
        batch.Add("UPDATE users SET active_workspace_id = $1 WHERE id = $2 AND active_workspace_id IS NULL").Args(id, userId);
        await session.ExecuteAsync(batch, cancellationToken);
        await session.CommitAsync(cancellationToken);
        return new WorkspaceView(id, valid, Tiers.Free, WorkspaceRole.Owner.ToWire(), now, now);
    }

    public async Task<IReadOnlyList<WorkspaceView>> ListMineAsync(Caller caller, CancellationToken cancellationToken)
    {
        await using var session = await TenantSession.OpenAsync(data.Pooled, null, caller.UserId, write: false, cancellationToken);
        await using var batch = session.CreateBatch($"""
            SELECT {ViewColumns} FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id
            WHERE m.user_id = $1 ORDER BY w.name, w.id
            """, caller.UserId);
        await using var reader = await session.ReadAsync(batch, cancellationToken);
        var result = new List<WorkspaceView>();
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(Read(reader));
        }

        return result;
    }

    public async Task<WorkspaceView> GetAsync(WorkspaceAccess access, CancellationToken cancellationToken)
    {
        await using var session = await TenantSession.OpenAsync(data.Pooled, access.WorkspaceId, access.Caller.UserId, write: false, cancellationToken);
        await using var batch = session.CreateBatch("SELECT w.id, w.name, w.tier, $2, w.created_at, w.updated_at FROM workspaces w WHERE w.id = $1",
            access.WorkspaceId, access.Role.ToWire());
        await using var reader = await session.ReadAsync(batch, cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : throw new ProblemException(ProblemTypes.NotFound, "No such workspace.");
    }

    public async Task<WorkspaceView> RenameAsync(WorkspaceAccess access, string? name, RequestOrigin origin, CancellationToken cancellationToken)
    {
        var valid = ValidName(name);
        await using (var session = await TenantSession.OpenAsync(data.Pooled, access.WorkspaceId, access.Caller.UserId, write: true, cancellationToken))
        {
            await session.ExecuteAsync("UPDATE workspaces SET name = $2, updated_at = $3 WHERE id = $1", cancellationToken, access.WorkspaceId, valid, time.GetUtcNow());
            await session.CommitAsync(cancellationToken);
        }

        await audit.AppendAsync(AuditEntries.Admin(access, origin, "workspace.rename", new() { ["name"] = valid }), cancellationToken);
        return await GetAsync(access, cancellationToken);
    }

    /// <summary>Makes the workspace the user's active one and answers an access token that carries it.</summary>
    public async Task<WorkspaceSwitched> SwitchAsync(WorkspaceAccess access, RequestOrigin origin, CancellationToken cancellationToken)
    {
        var caller = access.Caller;
        if (caller.SessionId is not { } session)
        {
            // A token of an external issuer has no session of ours to extend: it names the workspace per request.
            throw new ProblemException(ProblemTypes.Forbidden, "Tokens of an external issuer cannot switch; send X-Workspace-Id instead.");
        }

        // A switch mints a fresh token, so it must not outlive its session: logout or refresh-token reuse ends both.
        await using (var command = data.Pooled.CreateCommand("""
            UPDATE users SET active_workspace_id = $1 WHERE id = $2
              AND EXISTS (SELECT FROM refresh_tokens WHERE family_id = $3 AND revoked_at IS NULL AND expires_at > $4)
            """).Args(access.WorkspaceId, caller.UserId, session, time.GetUtcNow()))
        {
            if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                throw new ProblemException(ProblemTypes.Unauthorized, "The session this token belongs to has ended; sign in again.");
            }
        }

        await audit.AppendAsync(new AuditEvent(access.WorkspaceId, AuditEvents.WorkspaceSwitch, caller.UserId, null, origin.IpAddress, origin.RequestId,
            new() { ["from"] = caller.WorkspaceId?.ToString() }), cancellationToken);
        var (token, expiresAt) = sessions.AccessToken(caller.UserId!.Value, access.WorkspaceId, session);
        return new WorkspaceSwitched(access.WorkspaceId, token, "Bearer", (int)(expiresAt - time.GetUtcNow()).TotalSeconds);
    }

    private static string ValidName(string? name)
    {
        var trimmed = name?.Trim();
        return string.IsNullOrEmpty(trimmed) || trimmed.Length > 100
            ? throw ProblemException.Validation(new Dictionary<string, string[]> { ["name"] = ["is required and must be at most 100 characters."] })
            : trimmed;
    }

    private static WorkspaceView Read(NpgsqlDataReader reader) => new(
        reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
        reader.GetFieldValue<DateTimeOffset>(4), reader.GetFieldValue<DateTimeOffset>(5));
}
