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
/// The caller's standing in one workspace, established by the access middleware before the endpoint runs
/// (the membership lookup is cached, so checking it up front costs no round trip on a hit).
/// </summary>
public sealed record WorkspaceAccess(Guid WorkspaceId, WorkspaceRole Role, string Tier, Caller Caller)
{
    /// <summary>Endpoint parameter binding: the access middleware has set it for every workspace route.</summary>
    public static ValueTask<WorkspaceAccess?> BindAsync(HttpContext context) => ValueTask.FromResult(context.Features.Get<WorkspaceAccess>());
}
