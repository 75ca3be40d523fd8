using System.Text.Json.Serialization;
using AgentCrm.Core.Audit;
using AgentCrm.Core.Contacts;
using AgentCrm.Core.Durable;
using AgentCrm.Core.Orchestrations;
using AgentCrm.Core.Identity;
using AgentCrm.Core.Platform;
using AgentCrm.Core.Platform.Caching;
using AgentCrm.Core.Platform.Configuration;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Http;
using AgentCrm.Core.Platform.Observability;
using AgentCrm.Core.Usage;
using AgentCrm.Functions.Access;
using AgentCrm.Functions.CustomHandler;
using AgentCrm.Functions.Endpoints;
using AgentCrm.Functions.OpenApi;
using AgentCrm.Functions.Traffic;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Logging.Console;

namespace AgentCrm.Functions;

/// <summary>
/// Composes the custom handler: settings (validated, all problems at once), services, the request
/// pipeline in DESIGN.md §3 order, and the endpoints. Tests build the same app with extra configuration.
/// </summary>
public static partial class AgentCrmApp
{
    /// <exception cref="ConfigurationException">Listing every missing or invalid setting.</exception>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        configure?.Invoke(builder);
        var settings = AppSettings.Load(builder.Configuration, builder.Environment);

        builder.WebHost.UseUrls(settings.Hosting.ListenUrl);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = settings.Http.MaxRequestBodyBytes;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.Http.ShutdownTimeout);
        ConfigureLogging(builder.Logging);

        builder.Services.AddPlatform(settings, builder.Environment.EnvironmentName);
        builder.Services.AddCaching(settings.Cache);
        builder.Services.AddDurableEngine(settings.Durable);
        builder.Services.AddIdentityAndWorkspaces(settings.Auth);
        builder.Services.AddAudit(settings.Audit);
        builder.Services.AddCrm();
        builder.Services.AddOrchestrationManagement();
        builder.Services.AddUsage(settings.RateLimits, settings.Tiers);
        builder.Services.AddSingleton<AgentCrm.Functions.Traffic.TrafficCheck>();
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.Configure<JsonOptions>(o =>
        {
            // Unknown fields in a request body are refused (docs/errors.md): a typo must not pass silently.
            o.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            o.SerializerOptions.AllowDuplicateProperties = false;
        });
        builder.Services.AddHostFunctions();
        builder.Services.AddApiDocument();

        var app = builder.Build();
        app.UseMiddleware<RequestContextMiddleware>();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<BodyLimitMiddleware>();
        app.UseRouting();
        app.UseMiddleware<ContentTypeMiddleware>();
        app.UseMiddleware<AccessMiddleware>();
        app.UseMiddleware<TrafficMiddleware>();
        app.UseMiddleware<IdempotencyMiddleware>();

        // The Functions host polls GET / until it answers before it sends any traffic: keep it free of I/O.
        app.MapGet("/", () => Results.Text("AgentCrm custom handler", "text/plain")).ExcludeFromDescription();
        app.MapHealthEndpoints();
        app.MapApiDocument();
        app.MapAuthEndpoints();
        app.MapWorkspaceEndpoints();
        app.MapMemberEndpoints();
        app.MapHostFunctions();
        app.MapAuditEndpoints();
        app.MapContactEndpoints();
        app.MapCampaignEndpoints();
        app.MapDashboardEndpoints();
        app.MapUsageEndpoints();
        app.MapOrchestrationEndpoints();
        app.MapDeadLetterEndpoints();
        if (settings.Diagnostics.TestEndpoints)
        {
            app.MapDiagnosticsEndpoints();
        }

        // Resolve at start so exporters exist before the first request, and report what was configured.
        _ = app.Services.GetRequiredService<TelemetryProviders>();
        var pooled = PostgresConnectionString.Redact(settings.Postgres.Pooled);
        var direct = PostgresConnectionString.Redact(settings.Postgres.Direct);
        app.Lifetime.ApplicationStarted.Register(() => LogStarted(app.Logger, settings.Hosting.ListenUrl, app.Environment.EnvironmentName,
            pooled, direct, settings.Background.Enabled, settings.Observability.OtlpEndpoint is not null));
        return app;
    }

    private static void ConfigureLogging(ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.AddConsole(o => o.FormatterName = JsonLineFormatter.FormatterName);
        logging.AddConsoleFormatter<JsonLineFormatter, ConsoleFormatterOptions>();
        logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information,
        Message = "AgentCrm listening on {ListenUrl} ({Environment}); PostgreSQL pooled {Pooled}, direct {Direct}; background {BackgroundEnabled}; OTLP export {Exporting}")]
    private static partial void LogStarted(ILogger logger, string listenUrl, string environment, string pooled, string direct, bool backgroundEnabled, bool exporting);
}
