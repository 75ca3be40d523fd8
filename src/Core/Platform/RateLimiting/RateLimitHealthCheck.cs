using AgentCrm.Core.Platform.Redis;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AgentCrm.Core.Platform.RateLimiting;

/// <summary>
/// Degraded (never unhealthy: readiness does not include it) while rate limits are decided in process
/// because Redis is not configured, not connected, or failed a decision in the last ten seconds.
/// </summary>
public sealed class RateLimitHealthCheck(RateLimitOptions options, IRedisClient redis, RateLimiter limiter, TimeProvider time) : IHealthCheck
{
    public const string Name = "rate-limits";
    public const string DegradedDescription = "redis unreachable: local rate limits";
    private static readonly TimeSpan Recent = TimeSpan.FromSeconds(10);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!options.Enabled)
        {
            return Task.FromResult(HealthCheckResult.Healthy("Rate limits are off (RateLimits__Enabled=false)."));
        }

        if (!redis.IsConfigured)
        {
            return Task.FromResult(HealthCheckResult.Degraded("redis not configured: local rate limits"));
        }

        var local = limiter.LastLocalDecisionAt;
        var recent = local is { } at && time.GetUtcNow() - at < Recent;
        return Task.FromResult(!redis.IsConnected || recent
            ? HealthCheckResult.Degraded(DegradedDescription)
            : HealthCheckResult.Healthy("Rate limits are shared through Redis."));
    }
}
