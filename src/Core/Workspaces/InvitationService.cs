using AgentCrm.Core.Audit;
using AgentCrm.Core.Identity;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Problems;
using AgentCrm.Core.Platform.Security;
using AgentCrm.Core.Platform.Validation;
using Npgsql;

namespace AgentCrm.Core.Workspaces;

public sealed record InvitationView(Guid Id, string Email, string Role, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);

public sealed record CreatedInvitation(Guid Id, string Email, string Role, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, string Token);

public sealed record InvitationAccepted(Guid WorkspaceId, string Role);

/// <summary>
/// Invitations by email with a single-use token (stored hashed). Sending the email is the client's or a
/// later feature's job: the token is answered once, to the admin who invites. Only the invited email's
/// account can accept, and a token works once.
/// </summary>
public sealed class InvitationService(PostgresDataSources data, IAuditLog audit, AuthOptions options, TimeProvider time)
{
    public async Task<CreatedInvitation> CreateAsync(WorkspaceAccess access, string? email, string? role, RequestOrigin origin, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (EmailAddress.Problem(email?.Trim()) is { } emailProblem)
        {
            errors["email"] = [emailProblem];
        }

        if (!WorkspaceRoles.TryParse(role, out var invitedRole) || invitedRole == WorkspaceRole.Owner)
        {
            errors["role"] = ["must be one of admin, member, viewer (make an owner by changing a member's role)."];
        }

        if (errors.Count > 0)
        {
            throw ProblemException.Validation(errors);
        }

        var now = time.GetUtcNow();
        var id = Guid.CreateVersion7(now);
        var token = SecretTokens.New();
        var normalized = EmailAddress.Normalize(email!);
        await using (var session = await TenantSession.OpenAsync(data.Pooled, access.WorkspaceId, access.Caller.UserId, write: true, cancellationToken))
        {
            await session.ExecuteAsync("""
                INSERT INTO workspace_invitations (workspace_id, id, email_normalized, role, token_hash, invited_by, created_at, expires_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """, cancellationToken, access.WorkspaceId, id, normalized, invitedRole.ToWire(), SecretTokens.Hash(token), access.Caller.UserId, now, now + options.InvitationLifetime);
            await session.CommitAsync(cancellationToken);
        }

        await audit.AppendAsync(AuditEntries.Admin(access, origin, "invitation.create", new() { ["email"] = normalized, ["role"] = invitedRole.ToWire() }), cancellationToken);
        return new CreatedInvitation(id, normalized, invitedRole.ToWire(), now, now + options.InvitationLifetime, token);
    }

    public async Task<IReadOnlyList<InvitationView>> ListPendingAsync(WorkspaceAccess access, CancellationToken cancellationToken)
    {
        await using var session = await TenantSession.OpenAsync(data.Pooled, access.WorkspaceId, access.Caller.UserId, write: false, cancellationToken);
        await using var batch = session.CreateBatch("""
            SELECT id, email_normalized, role, created_at, expires_at FROM workspace_invitations
            WHERE workspace_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at, id
            """, access.WorkspaceId, time.GetUtcNow());
        await using var reader = await session.ReadAsync(batch, cancellationToken);
        var result = new List<InvitationView>();
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new InvitationView(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3), reader.GetFieldValue<DateTimeOffset>(4)));
        }

        return result;
    }

    public async Task RevokeAsync(WorkspaceAccess access, string idText, RequestOrigin origin, CancellationToken cancellationToken)
    {
        var revoked = 0;
        if (Guid.TryParse(idText, out var id))
        {
            await using var session = await TenantSession.OpenAsync(data.Pooled, access.WorkspaceId, access.Caller.UserId, write: true, cancellationToken);
            revoked = await session.ExecuteAsync("""
                UPDATE workspace_invitations SET revoked_at = $3 WHERE workspace_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL
                """, cancellationToken, access.WorkspaceId, id, time.GetUtcNow());
            await session.CommitAsync(cancellationToken);
        }

        if (revoked == 0)
        {
            throw new ProblemException(ProblemTypes.NotFound, "No such pending invitation in this workspace.");
        }

        await audit.AppendAsync(AuditEntries.Admin(access, origin, "invitation.revoke", new() { ["invitationId"] = id.ToString() }), cancellationToken);
    }

    public async Task<InvitationAccepted> AcceptAsync(Caller caller, string? token, RequestOrigin origin, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 200)
        {
            throw ProblemException.Validation(new Dictionary<string, string[]> { ["token"] = ["is required."] });
        }

        var now = time.GetUtcNow();
        var userId = caller.UserId!.Value;
        Guid workspaceId, invitationId;
        string email, role;
        await using (var find = data.Pooled.CreateCommand("""
            SELECT i.workspace_id, i.id, i.email_normalized, i.role, i.expires_at, i.accepted_at, i.revoked_at, u.email_normalized
            FROM app.find_invitation($1) i CROSS JOIN users u WHERE u.id = $2
            """).Args(SecretTokens.Hash(token), userId))
        await using (var reader = await find.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken) || !reader.IsDBNull(6))
            {
                throw new ProblemException(ProblemTypes.NotFound, "No such invitation.");
            }

            if (!reader.IsDBNull(5) || reader.GetFieldValue<DateTimeOffset>(4) <= now)
            {
                throw new ProblemException(ProblemTypes.Gone, "This invitation has already been used or has expired; ask for a new one.");
            }

            (workspaceId, invitationId, email, role) = (reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3));
            if (email != reader.GetString(7))
            {
                throw new ProblemException(ProblemTypes.Forbidden, "This invitation is for another email address.");
            }
        }

        await using (var session = await TenantSession.OpenAsync(data.Pooled, workspaceId, userId, write: true, cancellationToken))
        {
            // The accepted_at guard makes the token single-use even when two accepts race.
            await using var batch = session.CreateBatch("""
                UPDATE workspace_invitations SET accepted_at = $3, accepted_by = $4 WHERE workspace_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL
                """, workspaceId, invitationId, now, userId);
            batch.Add("INSERT INTO workspace_members (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                .Args(workspaceId, userId, role, now);
            await session.ExecuteAsync(batch, cancellationToken);
            if (batch.BatchCommands[1].RecordsAffected == 0)
            {
                throw new ProblemException(ProblemTypes.Gone, "This invitation has already been used.");
            }

            if (batch.BatchCommands[2].RecordsAffected == 0)
            {
                throw new ProblemException(ProblemTypes.Conflict, "You are already a member of this workspace.");
            }

            await session.CommitAsync(cancellationToken);
        }

        var access = new WorkspaceAccess(workspaceId, WorkspaceRoles.Parse(role), string.Empty, caller);
        await audit.AppendAsync(AuditEntries.Granted(access, origin, "invitation.accept", new() { ["invitationId"] = invitationId.ToString(), ["role"] = role }), cancellationToken);
        return new InvitationAccepted(workspaceId, role);
    }
}
