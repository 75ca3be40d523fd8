using AgentCrm.Core.Dashboard;
using AgentCrm.Core.Platform.Security;

namespace AgentCrm.Functions.Endpoints;

/// <summary>GET /api/dashboard: live contacts and campaigns by status.</summary>
public static class DashboardEndpoints
{
    public static void MapDashboardEndpoints(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/dashboard", (WorkspaceAccess access, DashboardService dashboard, CancellationToken cancellationToken) =>
                dashboard.GetAsync(access, cancellationToken))
            .WithName("GetDashboard").WithTags("Dashboard")
            .Produces<DashboardSummary>().ProducesProblems();
}
