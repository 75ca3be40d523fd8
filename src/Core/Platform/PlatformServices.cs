using AgentCrm.Core.Platform.Configuration;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Health;
using AgentCrm.Core.Platform.Hosting;
using AgentCrm.Core.Platform.Http;
using AgentCrm.Core.Platform.Maintenance;
using AgentCrm.Core.Platform.Observability;
using AgentCrm.Core.Platform.Problems;
using AgentCrm.Core.Platform.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace AgentCrm.Core.Platform;

/// <summary>Registers the platform: settings, data sources, migrations, health, problems, telemetry, housekeeping.</summary>
public static class PlatformServices
{
    public static IServiceCollection AddPlatform(this IServiceCollection services, AppSettings settings, string environmentName)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(settings);
        services.AddSingleton(Options.Create(settings.Http));
        services.AddSingleton(Options.Create(settings.Background));
        services.AddSingleton(Options.Create(settings.Health));
        services.AddSingleton(Options.Create(settings.Migrations));
        services.AddSingleton(settings.Hosting);
        services.AddSingleton(settings.Postgres);
        services.AddSingleton(settings.Observability);
        services.AddSingleton(sp => new AppInfo(settings.Hosting, environmentName, sp.GetRequiredService<TimeProvider>()));

        services.AddSingleton<PostgresDataSources>();
        services.AddSingleton(MigrationCatalog.Embedded);
        services.AddSingleton<MigrationRunner>();

        services.AddSingleton<TelemetryProviders>();
        services.AddSingleton<ShutdownState>();
        services.AddSingleton<BackgroundLoopMonitor>();
        services.AddHostedService<ShutdownDrainService>();
        services.AddHostedService<StartupMigrationService>();

        services.AddProblemDetails(o => o.CustomizeProblemDetails = ProblemDetailsEnricher.Enrich);
        services.AddExceptionHandler<ProblemExceptionHandler>();

        services.AddSingleton<ShutdownHealthCheck>();
        services.AddSingleton<PostgresHealthCheck>();
        services.AddSingleton<MigrationsHealthCheck>();
        services.AddSingleton<BackgroundLoopsHealthCheck>();
        services.AddHealthChecks()
            .Add(Ready<ShutdownHealthCheck>("shutdown"))
            .Add(Ready<PostgresHealthCheck>("postgres"))
            .Add(Ready<MigrationsHealthCheck>("migrations"))
            .Add(Ready<BackgroundLoopsHealthCheck>("background"));

        services.AddSingleton<HousekeepingRunner>();
        services.AddSingleton<IHousekeepingJob, PruneMaintenanceHistoryJob>();

        services.AddRedis(settings.Redis);

        services.AddSingleton(settings.Idempotency);
        services.AddSingleton<IdempotencyStore>();
        services.AddSingleton<IHousekeepingJob, IdempotencyKeyPurgeJob>();
        return services;
    }

    private static HealthCheckRegistration Ready<T>(string name) where T : class, IHealthCheck =>
        new(name, sp => sp.GetRequiredService<T>(), failureStatus: HealthStatus.Unhealthy, tags: [HealthTags.Ready]);
}
