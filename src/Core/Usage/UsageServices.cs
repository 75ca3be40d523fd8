using AgentCrm.Core.Platform.Maintenance;
using AgentCrm.Core.Platform.RateLimiting;
using Microsoft.Extensions.DependencyInjection;

namespace AgentCrm.Core.Usage;

/// <summary>Registers traffic control: rate limits, tier plans and quotas, the usage flush, AI token accounting and the usage report.</summary>
public static class UsageServices
{
    public static IServiceCollection AddUsage(this IServiceCollection services, RateLimitOptions rateLimits, TierPlans plans)
    {
        services.AddRateLimiting(rateLimits);
        services.AddSingleton(plans);
        services.AddSingleton<ApiCallCounter>();
        services.AddSingleton<TrafficGate>();
        services.AddSingleton<UsageLedger>();
        services.AddSingleton<UsageService>();
        services.AddSingleton<IHousekeepingJob, UsageFlushJob>();
        return services;
    }
}
