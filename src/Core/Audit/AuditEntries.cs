using System.Text.Json.Nodes;
using AgentCrm.Core.Identity;
using AgentCrm.Core.Platform.Security;

namespace AgentCrm.Core.Audit;

/// <summary>Builds the entries features write, so every admin action is recorded the same way.</summary>
public static class AuditEntries
{
    public static AuditEvent Admin(WorkspaceAccess access, RequestOrigin origin, string action, JsonObject details) =>
        Of(access, origin, AuditEvents.AdminAction, action, details);

    public static AuditEvent Granted(WorkspaceAccess access, RequestOrigin origin, string action, JsonObject details) =>
        Of(access, origin, AuditEvents.AccessGranted, action, details);

    private static AuditEvent Of(WorkspaceAccess access, RequestOrigin origin, string name, string action, JsonObject details)
    {
        details["action"] = action;
        return new AuditEvent(access.WorkspaceId, name, access.Caller.UserId, access.Caller.ApiKeyId, origin.IpAddress, origin.RequestId, details);
    }
}
