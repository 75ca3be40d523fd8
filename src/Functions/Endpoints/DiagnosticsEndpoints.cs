using AgentCrm.Core.Platform.RateLimiting;
using AgentCrm.Functions.Access;

namespace AgentCrm.Functions.Endpoints;

/// <summary>
/// Only with Diagnostics__TestEndpoints=true (refused in Production): a request that takes a while, for
/// the graceful-shutdown test, one that throws, for the no-stack-trace test, both against the real
/// process, and one per rate-limit policy that no feature uses yet.
/// </summary>
public static partial class DiagnosticsEndpoints
{
    public static void MapDiagnosticsEndpoints(this IEndpointRouteBuilder app)
    {
        // Test-only and harmless: open, by their own rule rather than a row in the access table.
        var group = app.MapGroup("/api/_diagnostics").ExcludeFromDescription().WithMetadata(new AccessRule("GET", "/api/_diagnostics/*", Audience.Anonymous));
        var logger = app.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DiagnosticsEndpoints).FullName!);
        group.MapGet("/delay", async (int ms, TimeProvider time, CancellationToken cancellationToken) =>
        {
            LogDelayStarted(logger, ms);
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Clamp(ms, 0, 60_000)), time, cancellationToken);
            return Results.Ok(new { delayedMs = ms });
        });
        group.MapGet("/throw", string () =>
            throw new InvalidOperationException("Diagnostics failure: Password=do-not-leak at Secret.Method()"));

        // The rate-limit policies whose features come later (AI, email, webhooks), so their limits can be driven now.
        foreach (var policy in new[] { RatePolicies.Ai, RatePolicies.Email, RatePolicies.Webhook })
        {
            group.MapGet($"/limited/{policy}", () => Results.Ok(new { policy }))
                .WithMetadata(new AccessRule("GET", $"/api/_diagnostics/limited/{policy}", Audience.Anonymous) { RatePolicy = policy });
        }
    }

    [LoggerMessage(EventId = 9001, Level = LogLevel.Information, Message = "Diagnostics delay of {DelayMs} ms started")]
    private static partial void LogDelayStarted(ILogger logger, int delayMs);
}
