using System.Collections.Frozen;
using AgentCrm.Core.Platform.RateLimiting;
using static AgentCrm.Core.Platform.Security.WorkspaceRole;
using static AgentCrm.Functions.Access.AccessRule;

namespace AgentCrm.Functions.Access;

/// <summary>
/// The role rules of every public endpoint, in one table. The access middleware enforces it, a test walks
/// it (every role and key scope against every row), and another test checks that it and the mapped
/// endpoints name the same routes. Roles rank viewer &lt; member &lt; admin &lt; owner; a key's scope maps
/// read → viewer, write → member, admin → admin. Each row also names its rate-limit policy (default unless
/// said; sign-up, login and refresh are auth; health and the API document are exempt).
/// </summary>
public static class AccessRules
{
    public static IReadOnlyList<AccessRule> Table { get; } =
    [
        Anonymous("GET", "/api/health/live") with { RatePolicy = null },
        Anonymous("GET", "/api/health/ready") with { RatePolicy = null },
        Anonymous("GET", "/api/health") with { RatePolicy = null },
        Anonymous("GET", "/api/openapi/{documentName}.json") with { RatePolicy = null },

        Anonymous("POST", "/api/auth/register") with { RatePolicy = RatePolicies.Auth },
        Anonymous("POST", "/api/auth/login") with { RatePolicy = RatePolicies.Auth },
        Anonymous("POST", "/api/auth/refresh") with { RatePolicy = RatePolicies.Auth },
        User("POST", "/api/auth/logout"),
        User("GET", "/api/me"),

        User("POST", "/api/workspaces"),
        User("GET", "/api/workspaces"),
        Workspace("GET", "/api/workspaces/{workspaceId}", Viewer),
        Workspace("PATCH", "/api/workspaces/{workspaceId}", Admin, highValue: true),
        Workspace("POST", "/api/workspaces/{workspaceId}/switch", Viewer, apiKeys: false),
        Workspace("GET", "/api/workspaces/{workspaceId}/members", Viewer),
        Workspace("PATCH", "/api/workspaces/{workspaceId}/members/{userId}", Admin, apiKeys: false, highValue: true),
        Workspace("DELETE", "/api/workspaces/{workspaceId}/members/{userId}", Admin, apiKeys: false, highValue: true),
        Workspace("GET", "/api/workspaces/{workspaceId}/invitations", Admin, apiKeys: false),
        Workspace("POST", "/api/workspaces/{workspaceId}/invitations", Admin, apiKeys: false, highValue: true),
        Workspace("DELETE", "/api/workspaces/{workspaceId}/invitations/{invitationId}", Admin, apiKeys: false, highValue: true),
        User("POST", "/api/invitations/accept"),
        Workspace("GET", "/api/workspaces/{workspaceId}/api-keys", Admin),
        Workspace("POST", "/api/workspaces/{workspaceId}/api-keys", Admin, apiKeys: false, highValue: true),
        Workspace("DELETE", "/api/workspaces/{workspaceId}/api-keys/{keyId}", Admin, highValue: true),

        Read("/api/contacts"),
        Workspace("POST", "/api/contacts", Member),
        Read("/api/contacts/{id}"),
        Workspace("PATCH", "/api/contacts/{id}", Member),
        Workspace("DELETE", "/api/contacts/{id}", Member),

        Read("/api/campaigns"),
        Workspace("POST", "/api/campaigns", Member),
        Workspace("POST", "/api/campaigns/audience-preview", Viewer),
        Read("/api/campaigns/{id}"),
        Workspace("PATCH", "/api/campaigns/{id}", Member),
        Workspace("DELETE", "/api/campaigns/{id}", Member),
        Workspace("POST", "/api/campaigns/{id}/transitions", Member),
        Read("/api/campaigns/{id}/audience"),

        Read("/api/dashboard"),
        Read("/api/usage"),

        Workspace("POST", "/api/orchestrations", Admin, highValue: true),
        Workspace("GET", "/api/orchestrations", Admin),
        Workspace("DELETE", "/api/orchestrations", Admin, highValue: true),
        Workspace("GET", "/api/orchestrations/{instanceId}", Admin),
        Workspace("DELETE", "/api/orchestrations/{instanceId}", Admin, highValue: true),
        Workspace("POST", "/api/orchestrations/{instanceId}/raiseEvent/{eventName}", Admin),
        Workspace("POST", "/api/orchestrations/{instanceId}/terminate", Admin, highValue: true),
        Workspace("POST", "/api/orchestrations/{instanceId}/suspend", Admin, highValue: true),
        Workspace("POST", "/api/orchestrations/{instanceId}/resume", Admin, highValue: true),
        Workspace("POST", "/api/orchestrations/{instanceId}/rewind", Admin, highValue: true),
        Workspace("POST", "/api/orchestrations/{instanceId}/restart", Admin, highValue: true),

        Workspace("GET", "/api/dead-letters", Admin),
        Workspace("GET", "/api/dead-letters/{id}", Admin),
        Workspace("POST", "/api/dead-letters/{id}/replay", Admin, highValue: true),
        Workspace("DELETE", "/api/dead-letters/{id}", Admin, highValue: true),

        Workspace("GET", "/api/audit", Admin),
        Workspace("POST", "/api/audit/verify", Admin, highValue: true),
    ];

    private static readonly FrozenDictionary<(string Method, string Route), AccessRule> ByRoute =
        Table.ToFrozenDictionary(r => (r.Method, r.Route));

    /// <summary>The rule for a route template as routing reports it (a group's "" child ends in a slash).</summary>
    public static AccessRule? Find(string method, string? route) =>
        route is not null && ByRoute.TryGetValue((method == "HEAD" ? "GET" : method, route.Length > 1 ? route.TrimEnd('/') : route), out var rule) ? rule : null;
}
