using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AgentCrm.Core.Platform.RateLimiting;

public static class RateLimitingServices
{
    /// <summary>The limiter, its in-process fallback, and a health check that is degraded (never unready) while the fallback decides.</summary>
    public static IServiceCollection AddRateLimiting(this IServiceCollection services, RateLimitOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<LocalRateLimiter>();
        services.AddSingleton<BucketMirrors>();
        services.AddSingleton<RateLimiter>();
        services.AddHostedService<RateLimitFlushService>();
        services.AddSingleton<RateLimitHealthCheck>();
        services.AddHealthChecks().Add(new HealthCheckRegistration(RateLimitHealthCheck.Name,
            sp => sp.GetRequiredService<RateLimitHealthCheck>(), failureStatus: HealthStatus.Degraded, tags: []));
        return services;
    }
}
