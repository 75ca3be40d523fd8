using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentCrm.Core.Platform.Redis;

/// <summary>Registers the Redis client and subscriber (one each per process), their credentials and health check.</summary>
public static class RedisServices
{
    public static IServiceCollection AddRedis(this IServiceCollection services, RedisOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(sp => new RedisClient(options, Credentials(options, sp), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<RedisClient>>()));
        services.AddSingleton<IRedisClient>(sp => sp.GetRequiredService<RedisClient>());
        services.AddSingleton(sp => new RedisSubscriber(options, Credentials(options, sp), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<RedisSubscriber>>()));
        services.AddSingleton<IRedisSubscriber>(sp => sp.GetRequiredService<RedisSubscriber>());
        services.AddHostedService<RedisStartup>();
        services.AddSingleton<RedisHealthCheck>();
        services.AddHealthChecks().Add(new HealthCheckRegistration("redis", sp => sp.GetRequiredService<RedisHealthCheck>(), HealthStatus.Degraded, tags: []));
        return services;
    }

    /// <summary>The URL's password, or an Entra token from the managed identity; null when the server needs no AUTH.</summary>
    private static IRedisCredentialProvider? Credentials(RedisOptions options, IServiceProvider services) => options switch
    {
        { Endpoint: null } => null,
        { UseManagedIdentity: true, IdentityEndpoint: { } endpoint, IdentityHeader: { } header } => new ManagedIdentityRedisCredentials(
            new HttpClient { Timeout = TimeSpan.FromSeconds(10) }, endpoint, header, options.ManagedIdentityClientId, services.GetRequiredService<TimeProvider>()),
        _ => new UrlRedisCredentials(options.Endpoint),
    };

    /// <summary>Starts the first connection with the app, so no request waits for it.</summary>
    private sealed class RedisStartup(RedisClient client) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            client.StartConnecting();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
