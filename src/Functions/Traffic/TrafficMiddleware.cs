using AgentCrm.Core.Platform.RateLimiting;
using AgentCrm.Core.Platform.Security;
using AgentCrm.Core.Usage;
using AgentCrm.Functions.Access;

namespace AgentCrm.Functions.Traffic;

/// <summary>
/// Rate limit, then the daily API-call quota (DESIGN.md §3), after authentication and the workspace check:
/// the policy is the endpoint's row in <see cref="AccessRules"/>, the bucket and tier come from what the
/// access middleware established. A path under /api that matches no endpoint is limited by address on
/// the default policy. Every limited response carries the rate-limit headers; refusals are 429 problems.
/// </summary>
public sealed class TrafficMiddleware(RequestDelegate next, TrafficCheck check)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (!check.IsActive || PolicyOf(context) is not { } policy
            || await check.AdmitAsync(context, policy, context.Features.Get<Caller>(), context.Features.Get<WorkspaceAccess>()))
        {
            await next(context);
        }
    }

    private static string? PolicyOf(HttpContext context)
    {
        if (context.GetEndpoint() is RouteEndpoint endpoint)
        {
            // No rule: the Functions host's own invocations (the access middleware refuses /api routes without one).
            var rule = endpoint.Metadata.GetMetadata<AccessRule>() ?? AccessRules.Find(context.Request.Method, endpoint.RoutePattern.RawText);
            return rule?.RatePolicy;
        }

        return context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase) ? RatePolicies.Default : null;
    }
}
