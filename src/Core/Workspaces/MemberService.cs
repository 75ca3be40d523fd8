using AgentCrm.Core.Audit;
using AgentCrm.Core.Identity;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Problems;
using AgentCrm.Core.Platform.Security;

namespace AgentCrm.Core.Workspaces;

public sealed record MemberView(Guid UserId, string Email, string DisplayName, string Role, DateTimeOffset JoinedAt);

/// <summary>
/// Members and their roles. Only an owner may make or unmake an owner, and a workspace never loses its
/// last owner: the owner rows are locked while the change is checked, so two concurrent demotions
/// cannot both pass.
/// </summary>
public sealed class MemberService(PostgresDataSources data, IAuditLog audit, AccessCaches caches)
{
    public async Task<IReadOnlyList<MemberView>> ListAsync(WorkspaceAccess access, CancellationToken cancellationToken)
    {
        await using var session = await TenantSession.OpenAsync(data.Pooled, access.WorkspaceId, access.Caller.UserId, write: false, cancellationToken);
        await using var batch = session.CreateBatch("""
            SELECT m.user_id, u.email, u.display_name, m.role, m.created_at
            FROM workspace_members m JOIN users u ON u.id = m.user_id WHERE m.workspace_id = $1 ORDER BY m.created_at, m.user_id
            """, access.WorkspaceId);
        await using var reader = await session.ReadAsync(batch, cancellationToken);
        var members = new List<MemberView>();
        while (await reader.ReadAsync(cancellationToken))
        {
            members.Add(new MemberView(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4)));
        }

        return members;
    }

    public async Task<MemberView> ChangeRoleAsync(WorkspaceAccess access, string userIdText, string? role, RequestOrigin origin, CancellationToken cancellationToken)
    {
        if (!WorkspaceRoles.TryParse(role, out var newRole))
        {
            throw ProblemException.Validation(new Dictionary<string, string[]> { ["role"] = ["must be one of owner, admin, member, viewer."] });
        }

        var userId = ParseId(userIdText);
        await using var session = await TenantSession.OpenAsync(data.Pooled, access.WorkspaceId, access.Caller.UserId, write: true, cancellationToken);
        var current = await LockAndCheckAsync(session, access, userId, newRole, cancellationToken);
        await session.ExecuteAsync("UPDATE workspace_members SET role = $3 WHERE workspace_id = $1 AND user_id = $2", cancellationToken,
            access.WorkspaceId, userId, newRole.ToWire());
        await session.CommitAsync(cancellationToken);
        await caches.MemberChangedAsync(access.WorkspaceId, userId);
        await audit.AppendAsync(AuditEntries.Admin(access, origin, "member.role_change",
            new() { ["userId"] = userId.ToString(), ["from"] = current.ToWire(), ["to"] = newRole.ToWire() }), cancellationToken);
        return (await ListAsync(access, cancellationToken)).FirstOrDefault(m => m.UserId == userId)
            ?? throw new ProblemException(ProblemTypes.NotFound, "No such member in this workspace.");
    }

    public async Task RemoveAsync(WorkspaceAccess access, string userIdText, RequestOrigin origin, CancellationToken cancellationToken)
    {
        var userId = ParseId(userIdText);
        await using (var session = await TenantSession.OpenAsync(data.Pooled, access.WorkspaceId, access.Caller.UserId, write: true, cancellationToken))
        {
            var current = await LockAndCheckAsync(session, access, userId, null, cancellationToken);
            await session.ExecuteAsync("DELETE FROM workspace_members WHERE workspace_id = $1 AND user_id = $2", cancellationToken, access.WorkspaceId, userId);
            await session.CommitAsync(cancellationToken);
            await caches.MemberChangedAsync(access.WorkspaceId, userId);
            await audit.AppendAsync(AuditEntries.Admin(access, origin, "member.remove",
                new() { ["userId"] = userId.ToString(), ["role"] = current.ToWire() }), cancellationToken);
        }
    }

    /// <summary>Locks the workspace's owner rows and the target's, then applies the owner rules. Null new role: removal.</summary>
    private static async Task<WorkspaceRole> LockAndCheckAsync(TenantSession session, WorkspaceAccess access, Guid userId, WorkspaceRole? newRole, CancellationToken cancellationToken)
    {
        await using var batch = session.CreateBatch("""
            SELECT user_id, role FROM workspace_members WHERE workspace_id = $1 AND (role = 'owner' OR user_id = $2 OR user_id = $3) ORDER BY user_id FOR UPDATE
            """, access.WorkspaceId, userId, access.Caller.UserId);
        WorkspaceRole? current = null;
        WorkspaceRole? callerRole = null;
        var owners = 0;
        await using (var reader = await session.ReadAsync(batch, cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var role = WorkspaceRoles.Parse(reader.GetString(1));
                owners += role == WorkspaceRole.Owner ? 1 : 0;
                current = reader.GetGuid(0) == userId ? role : current;
                callerRole = reader.GetGuid(0) == access.Caller.UserId ? role : callerRole;
            }
        }

        if (current is null)
        {
            throw new ProblemException(ProblemTypes.NotFound, "No such member in this workspace.");
        }

        var touchesOwner = current == WorkspaceRole.Owner || newRole == WorkspaceRole.Owner;
        // The caller's role as it is now, under the lock: not as it was when the request began.
        if (touchesOwner && callerRole != WorkspaceRole.Owner)
        {
            throw new ProblemException(ProblemTypes.Forbidden, "Only an owner may make or unmake an owner.");
        }

        if (current == WorkspaceRole.Owner && newRole != WorkspaceRole.Owner && owners == 1)
        {
            throw new ProblemException(ProblemTypes.Conflict, "A workspace must keep at least one owner: make another member owner first.");
        }

        return current.Value;
    }

    private static Guid ParseId(string text) =>
        Guid.TryParse(text, out var id) ? id : throw new ProblemException(ProblemTypes.NotFound, "No such member in this workspace.");
}
