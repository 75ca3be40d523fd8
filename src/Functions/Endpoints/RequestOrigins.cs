using AgentCrm.Core.Identity;

namespace AgentCrm.Functions.Endpoints;

public static class RequestOrigins
{
    /// <summary>The caller's address and the request id, for audit entries.</summary>
    public static RequestOrigin Origin(this HttpContext context) =>
        new(context.Connection.RemoteIpAddress?.ToString(), context.TraceIdentifier);
}
