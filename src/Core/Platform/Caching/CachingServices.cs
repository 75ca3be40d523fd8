using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;

namespace AgentCrm.Core.Platform.Caching;

/// <summary>Registers the layered cache's parts and IDistributedCache over Redis. Needs the Redis client and subscriber.</summary>
public static class CachingServices
{
    public static IServiceCollection AddCaching(this IServiceCollection services, CachingOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<CacheBus>();
        services.AddSingleton<CacheFactory>();
        services.AddHostedService<CacheBusService>();
        services.AddSingleton<IDistributedCache, RedisDistributedCache>();
        services.AddSingleton<CacheHealthCheck>();
        services.AddHealthChecks().AddCheck<CacheHealthCheck>("cache");
        return services;
    }
}
