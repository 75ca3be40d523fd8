using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace AgentCrm.Core.Platform.Http;

/// <summary>
/// First in the pipeline: settles the request id, opens the log scope every later log line carries,
/// names the request span after its route, and writes one structured line per request. Headers are
/// added in OnStarting because the exception handler clears headers when it rewrites a response.
/// </summary>
public sealed partial class RequestContextMiddleware(RequestDelegate next, ILogger<RequestContextMiddleware> logger)
{
    private static readonly Func<object, Task> ApplyHeaders = state =>
    {
        var context = (HttpContext)state;
        var headers = context.Response.Headers;
        headers[RequestId.Header] = context.TraceIdentifier;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers.ContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";
        headers.StrictTransportSecurity = "max-age=31536000";
        if (!headers.ContainsKey("Cache-Control"))
        {
            headers.CacheControl = "no-store";
        }

        return Task.CompletedTask;
    };

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        context.TraceIdentifier = RequestId.Resolve(context.Request.Headers[RequestId.Header]);
        context.Response.OnStarting(ApplyHeaders, context);

        using var scope = logger.BeginScope(new RequestScope(context.TraceIdentifier));
        try
        {
            await next(context);
        }
        finally
        {
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
            var activity = Activity.Current;
            if (activity is not null)
            {
                activity.DisplayName = route is null ? context.Request.Method : $"{context.Request.Method} {route}";
                activity.SetTag("http.route", route);
                activity.SetTag("http.response.status_code", context.Response.StatusCode);
                activity.SetTag("agentcrm.request_id", context.TraceIdentifier);
            }

            var durationMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            // Probes arrive every few seconds from the platform; they would drown the useful lines.
            if (context.Request.Path.StartsWithSegments("/api/health") || context.Request.Path == "/")
            {
                LogProbe(logger, context.Request.Method, route ?? context.Request.Path.Value ?? "/", context.Response.StatusCode, durationMs);
            }
            else
            {
                LogRequest(logger, context.Request.Method, route ?? context.Request.Path.Value ?? "/", context.Response.StatusCode, durationMs);
            }
        }
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "{Method} {Route} answered {StatusCode} in {DurationMs:0.###} ms")]
    private static partial void LogRequest(ILogger logger, string method, string route, int statusCode, double durationMs);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Debug, Message = "{Method} {Route} answered {StatusCode} in {DurationMs:0.###} ms")]
    private static partial void LogProbe(ILogger logger, string method, string route, int statusCode, double durationMs);
}
