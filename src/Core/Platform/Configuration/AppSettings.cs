using AgentCrm.Core.Durable;
using AgentCrm.Core.Platform.Caching;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Health;
using AgentCrm.Core.Platform.Hosting;
using AgentCrm.Core.Platform.Observability;
using AgentCrm.Core.Platform.RateLimiting;
using AgentCrm.Core.Platform.Redis;
using AgentCrm.Core.Platform.Security;
using AgentCrm.Core.Usage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace AgentCrm.Core.Platform.Configuration;

/// <summary>Every setting the app reads, read and validated once at start.</summary>
public sealed record AppSettings(
    HostingOptions Hosting,
    HttpOptions Http,
    PostgresOptions Postgres,
    MigrationOptions Migrations,
    BackgroundOptions Background,
    HealthOptions Health,
    ObservabilityOptions Observability,
    DiagnosticsOptions Diagnostics,
    DurableOptions Durable,
    AuthOptions Auth,
    AuditOptions Audit,
    IdempotencyOptions Idempotency,
    RedisOptions Redis,
    CachingOptions Cache,
    RateLimitOptions RateLimits,
    TierPlans Tiers)
{
    /// <summary>Reads everything; throws one <see cref="ConfigurationException"/> listing every problem.</summary>
    public static AppSettings Load(IConfiguration configuration, IHostEnvironment environment) =>
        Load(new SettingsReader(configuration), environment);

    public static AppSettings Load(SettingsReader reader, IHostEnvironment environment)
    {
        var isProduction = environment.IsProduction();
        var hosting = HostingOptions.Read(reader);
        var settings = new AppSettings(
            hosting,
            HttpOptions.Read(reader),
            PostgresOptions.Read(reader),
            MigrationOptions.Read(reader, environment.IsDevelopment()),
            BackgroundOptions.Read(reader),
            HealthOptions.Read(reader),
            ObservabilityOptions.Read(reader, isProduction),
            DiagnosticsOptions.Read(reader, isProduction),
            DurableOptions.Read(reader),
            AuthOptions.Read(reader),
            AuditOptions.Read(reader),
            IdempotencyOptions.Read(reader),
            RedisOptions.Read(reader, environment.EnvironmentName, hosting.Slot),
            CachingOptions.Read(reader),
            RateLimitOptions.Read(reader),
            TierPlans.Read(reader));
        reader.ThrowIfProblems();
        return settings;
    }
}
