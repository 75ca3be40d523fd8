using AgentCrm.Core.Platform.Security;
using AgentCrm.Core.Usage;

namespace AgentCrm.Functions.Endpoints;

/// <summary>GET /api/usage: today's API calls, AI tokens, contacts and campaigns against the workspace tier's limits.</summary>
public static class UsageEndpoints
{
    public static void MapUsageEndpoints(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/usage", (WorkspaceAccess access, UsageService usage, CancellationToken cancellationToken) =>
                usage.GetTodayAsync(access, cancellationToken))
            .WithName("GetUsage").WithTags("Usage")
            .WithDescription("Today's usage (UTC day) against the tier: API calls and AI tokens reset at UTC midnight; contacts and campaigns are maxima (resetsAt null).")
            .Produces<UsageReport>().ProducesProblems();
}
