using AgentCrm.Core.Platform.RateLimiting;
using AgentCrm.Core.Platform.Security;

namespace AgentCrm.Functions.Access;

/// <summary>Who may call an endpoint at all.</summary>
public enum Audience
{
    /// <summary>No credentials needed (health, register, login).</summary>
    Anonymous,

    /// <summary>A signed-in user, in no particular workspace (create or list workspaces). API keys are refused.</summary>
    User,

    /// <summary>A user who is a member of the workspace, or a key of that workspace, with at least <see cref="AccessRule.MinRole"/>.</summary>
    Workspace,
}

/// <summary>
/// The access rule of one endpoint: a row of <see cref="AccessRules.Table"/>. The workspace is the route
/// value <see cref="WorkspaceRouteValue"/> when the route names one, else the caller's active workspace.
/// <see cref="HighValue"/> calls are written to the audit log as <c>api.request</c>.
/// </summary>
public sealed record AccessRule(
    string Method,
    string Route,
    Audience Audience,
    WorkspaceRole MinRole = WorkspaceRole.Viewer,
    bool ApiKeys = true,
    bool HighValue = false,
    string? WorkspaceRouteValue = null)
{
    public static AccessRule Anonymous(string method, string route) => new(method, route, Audience.Anonymous, ApiKeys: false);

    public static AccessRule User(string method, string route) => new(method, route, Audience.User, ApiKeys: false);

    /// <summary>A read of tenant data by a viewer or better.</summary>
    public static AccessRule Read(string route) => Workspace("GET", route, WorkspaceRole.Viewer);

    public static AccessRule Workspace(string method, string route, WorkspaceRole minRole, bool apiKeys = true, bool highValue = false) =>
        new(method, route, Audience.Workspace, minRole, apiKeys, highValue, route.Contains("{workspaceId}", StringComparison.Ordinal) ? "workspaceId" : null);

    /// <summary>
    /// The rate-limit policy (<see cref="RatePolicies"/>) the endpoint's calls are counted against; null exempts
    /// it from rate limits and the daily quota (health checks, the API document).
    /// </summary>
    public string? RatePolicy { get; init; } = RatePolicies.Default;
}
