using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace AgentCrm.Core.Durable.Housekeeping;

/// <summary>
/// Degraded while instances look stuck, with their count and a few ids. Never unhealthy and not a readiness
/// check: taking this instance out of rotation would not unstick them (the cause is a missing worker
/// version, an unserved queue or a bug), and PostgreSQL being down is the postgres check's to report.
/// </summary>
public sealed class StuckInstancesHealthCheck(StuckInstanceReport report) : IHealthCheck
{
    public const string Name = "durable";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var minutes = report.StuckAfter.TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture);
        try
        {
            var stuck = await report.GetAsync(cancellationToken);
            var data = new Dictionary<string, object>
            {
                ["stuckInstances"] = stuck.Count,
                ["sampleInstanceIds"] = stuck.Sample,
                ["stuckAfterMinutes"] = report.StuckAfter.TotalMinutes,
                ["readAt"] = stuck.At,
            };
            return stuck.Count == 0
                ? HealthCheckResult.Healthy($"No instance has had work waiting over {minutes} min unconsumed.", data)
                : HealthCheckResult.Degraded(
                    $"{stuck.Count} instance(s) have had work waiting over {minutes} min with no progress: no worker for their orchestrator version or activity queue, or a failing worker.",
                    data: data);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            return HealthCheckResult.Degraded($"Could not read the stuck-instance report: {ex.Message}");
        }
    }
}
