using Microsoft.AspNetCore.Http;

namespace AgentCrm.Core.Platform.Security;

public enum CallerKind
{
    User,
    ApiKey,
}

/// <summary>
/// Who is calling, as authentication established it (no database read for a bearer token). The
/// workspace is the one the request addresses unless a route names another; whether the caller may act
/// in it is decided after, by membership (<see cref="WorkspaceAccess"/>).
/// </summary>
public sealed record Caller(CallerKind Kind, Guid? UserId, Guid? ApiKeyId, Guid? WorkspaceId, WorkspaceRole? KeyRole, Guid? SessionId, string Issuer)
{
    public static Caller User(Guid userId, Guid? workspaceId, Guid? sessionId, string issuer) =>
        new(CallerKind.User, userId, null, workspaceId, null, sessionId, issuer);

    public static Caller Key(Guid keyId, Guid workspaceId, WorkspaceRole role) =>
        new(CallerKind.ApiKey, null, keyId, workspaceId, role, null, "api-key");

    /// <summary>A stable id for what this caller does (idempotency scope, rate-limit key): user or key.</summary>
    public string PrincipalId => Kind == CallerKind.User ? $"user:{UserId}" : $"key:{ApiKeyId}";

    /// <summary>Endpoint parameter binding: the access middleware has set it for every non-anonymous route.</summary>
    public static ValueTask<Caller?> BindAsync(HttpContext context) => ValueTask.FromResult(context.Features.Get<Caller>());
}

/// <summary>
/// The caller's standing in one workspace. Usually established before the endpoint runs; for the read
/// routes the access table marks, a user's membership is instead checked by the first statement of the
/// endpoint's own read (<see cref="Data.TenantSession"/>), which scopes the transaction only when the
/// membership allows: one round trip instead of two, and the database itself refuses a non-member.
/// </summary>
public sealed class WorkspaceAccess
{
    private WorkspaceRole _role;
    private string _tier;

    public WorkspaceAccess(Guid workspaceId, WorkspaceRole role, string tier, Caller caller)
    {
        WorkspaceId = workspaceId;
        _role = role;
        _tier = tier;
        Caller = caller;
        IsVerified = true;
    }

    private WorkspaceAccess(Guid workspaceId, Caller caller, WorkspaceRole minRole)
    {
        WorkspaceId = workspaceId;
        Caller = caller;
        _tier = string.Empty;
        RequiredRole = minRole;
    }

    /// <summary>A user's access whose membership the first tenant read checks (at least <paramref name="minRole"/>).</summary>
    public static WorkspaceAccess Deferred(Guid workspaceId, Caller caller, WorkspaceRole minRole) => new(workspaceId, caller, minRole);

    public Guid WorkspaceId { get; }

    public Caller Caller { get; }

    public bool IsVerified { get; private set; }

    /// <summary>What a deferred check requires.</summary>
    public WorkspaceRole RequiredRole { get; }

    public WorkspaceRole Role => IsVerified ? _role : throw new InvalidOperationException("The membership has not been checked yet.");

    public string Tier => IsVerified ? _tier : throw new InvalidOperationException("The membership has not been checked yet.");

    /// <summary>Records what the deferred check found; refuses a missing or insufficient membership.</summary>
    public void Verify(WorkspaceRole? role, string? tier)
    {
        if (role is null)
        {
            throw new WorkspaceAccessDeniedException(this, null);
        }

        if (role < RequiredRole)
        {
            throw new WorkspaceAccessDeniedException(this, role);
        }

        (_role, _tier, IsVerified) = (role.Value, tier ?? string.Empty, true);
    }

    /// <summary>Endpoint parameter binding: the access middleware has set it for every workspace route.</summary>
    public static ValueTask<WorkspaceAccess?> BindAsync(HttpContext context) => ValueTask.FromResult(context.Features.Get<WorkspaceAccess>());
}

/// <summary>A deferred membership check failed: not a member (<see cref="Role"/> null) or a role too low.</summary>
public sealed class WorkspaceAccessDeniedException(WorkspaceAccess access, WorkspaceRole? role)
    : Exception(role is null ? "Not a member of the workspace." : $"The role {role} is below {access.RequiredRole}.")
{
    public WorkspaceAccess Access { get; } = access;

    public WorkspaceRole? Role { get; } = role;
}
