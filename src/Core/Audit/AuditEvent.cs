using System.Text.Json.Nodes;

namespace AgentCrm.Core.Audit;

/// <summary>The events the audit log records (DESIGN.md §10). The names are the wire values.</summary>
public static class AuditEvents
{
    public const string Login = "auth.login";
    public const string Logout = "auth.logout";
    public const string FailedLogin = "auth.failed_login";
    public const string WorkspaceSwitch = "workspace.switch";
    public const string AccessGranted = "access.granted";
    public const string AccessDenied = "access.denied";
    public const string AdminAction = "admin.action";
    public const string ApiRequest = "api.request";

    public static IReadOnlyList<string> All { get; } = [Login, Logout, FailedLogin, WorkspaceSwitch, AccessGranted, AccessDenied, AdminAction, ApiRequest];
}

/// <summary>
/// One audit entry. <see cref="WorkspaceId"/> null means the platform chain (events with no workspace,
/// such as a failed login for an unknown email).
/// </summary>
public sealed record AuditEvent(
    Guid? WorkspaceId,
    string Event,
    Guid? ActorUserId,
    Guid? ActorKeyId,
    string? IpAddress,
    string? RequestId,
    JsonObject? Details);
