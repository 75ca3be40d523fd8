using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AgentCrm.Core.Platform.Redis;

/// <summary>
/// Redis answers a PING. Never "unhealthy": Redis holds no only copy of anything and the app serves
/// without it (cache bypass, local rate limits), so it is degraded, shown in /api/health, not a reason to
/// take the instance out of rotation.
/// </summary>
public sealed class RedisHealthCheck(RedisClient client) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!client.IsConfigured)
        {
            return HealthCheckResult.Degraded("No Redis is configured (Redis__Url): in-process cache and rate limits only.");
        }

        try
        {
            var roundTrip = await client.PingAsync(cancellationToken);
            return HealthCheckResult.Healthy("Redis answered.", new Dictionary<string, object> { ["pingMs"] = Math.Round(roundTrip.TotalMilliseconds, 2) });
        }
        catch (RedisException ex)
        {
            return HealthCheckResult.Degraded($"Redis is unreachable: {ex.Message} Serving with cache bypass and local rate limits.");
        }
    }
}
