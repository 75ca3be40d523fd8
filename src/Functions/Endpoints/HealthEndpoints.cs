using AgentCrm.Core.Platform.Health;
using AgentCrm.Core.Platform.Hosting;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AgentCrm.Functions.Endpoints;

/// <summary>
/// live: the process serves (no I/O). ready: it should get traffic (Postgres, schema, loops, not stopping);
/// the platform's health check and the swap warm-up ping this one. /api/health: every check plus what is
/// running, for operators; it names no secrets or hosts.
/// </summary>
public static class HealthEndpoints
{
    private static readonly Dictionary<HealthStatus, int> StatusCodesByHealth = new()
    {
        [HealthStatus.Healthy] = StatusCodes.Status200OK,
        [HealthStatus.Degraded] = StatusCodes.Status200OK,
        [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
    };

    public static void MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        var readOnly = new HttpMethodMetadata(["GET", "HEAD"]);
        var appInfo = app.ServiceProvider.GetRequiredService<AppInfo>();
        var time = app.ServiceProvider.GetRequiredService<TimeProvider>();

        app.MapHealthChecks("/api/health/live", new HealthCheckOptions
        {
            Predicate = _ => false,
            ResponseWriter = HealthReportWriter.WriteAsync,
            ResultStatusCodes = StatusCodesByHealth,
        }).WithMetadata(readOnly).WithDisplayName("health: live");

        app.MapHealthChecks("/api/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(HealthTags.Ready),
            ResponseWriter = HealthReportWriter.WriteAsync,
            ResultStatusCodes = StatusCodesByHealth,
        }).WithMetadata(readOnly).WithDisplayName("health: ready");

        app.MapHealthChecks("/api/health", new HealthCheckOptions
        {
            ResponseWriter = (context, report) => HealthReportWriter.WriteAsync(context, report, appInfo, time),
            ResultStatusCodes = StatusCodesByHealth,
        }).WithMetadata(readOnly).WithDisplayName("health: detail");
    }
}
