using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AgentCrm.Core.Platform.Caching;

/// <summary>
/// Each cache's hit ratio and counters in /api/health (not a readiness check: without Redis the API
/// still serves, from the source). Degraded while the caches are bypassed.
/// </summary>
public sealed class CacheHealthCheck(CacheBus bus, CacheFactory caches) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = caches.Statistics().ToDictionary(s => s.Name, s => (object)new
        {
            hitRatio = s.HitRatio,
            l1Hits = s.L1Hits,
            l2Hits = s.L2Hits,
            misses = s.Misses,
            evictions = s.Evictions,
            invalidations = s.Invalidations,
            bypasses = s.Bypasses,
            redisErrors = s.RedisErrors,
            l1Entries = s.L1Entries,
        });
        if (!caches.Options.Enabled)
        {
            return Task.FromResult(HealthCheckResult.Healthy("Caching is switched off (Cache__Enabled=false).", data));
        }

        return Task.FromResult(bus.IsSynchronized
            ? HealthCheckResult.Healthy(bus.UsesRedis ? "L1 over Redis, invalidations subscribed." : "L1 only: no Redis is configured (one instance).", data)
            : HealthCheckResult.Degraded("Redis or its invalidation subscription is down: reads go straight to the source.", data: data));
    }
}
