using System.Diagnostics.Metrics;
using AgentCrm.Core.Platform.Observability;
using AgentCrm.Core.Platform.Problems;
using AgentCrm.Core.Platform.RateLimiting;
using Microsoft.AspNetCore.Http;

namespace AgentCrm.Core.Usage;

/// <summary>Turns a <see cref="TrafficVerdict"/> into response headers and, for a refusal, the 429 problem.</summary>
public static class TrafficResponses
{
    private static readonly Counter<long> Rejections = Telemetry.Meter.CreateCounter<long>(
        "agentcrm.ratelimit.rejections", description: "Requests refused with 429 by a rate limit (tag policy) or a daily quota (tag quota)");

    /// <summary>Sets the headers when the response starts, so they survive an exception handler's clearing of the response.</summary>
    public static void AddHeaders(HttpContext context, TrafficVerdict verdict, TimeProvider time)
    {
        if (verdict.Policy is null && verdict.Quota is null)
        {
            return;
        }

        var now = time.GetUtcNow();
        context.Response.OnStarting(static state =>
        {
            var (response, verdict, now) = ((HttpResponse, TrafficVerdict, DateTimeOffset))state;
            RateLimitHeaders.QuotaItem? quota = verdict.Quota is { } q
                ? new RateLimitHeaders.QuotaItem(TrafficGate.ApiCallsQuota, q.Limit, q.Remaining, q.ResetsAt - now)
                : null;
            RateLimitHeaders.Apply(response.Headers, verdict.Policy, verdict.Rate, quota);
            return Task.CompletedTask;
        }, (context.Response, verdict, now));
    }

    public static ValueTask RefuseAsync(HttpContext context, TrafficVerdict verdict, TimeProvider time)
    {
        ProblemException problem;
        if (verdict.Outcome == TrafficOutcome.RateLimited)
        {
            Rejections.Add(1, new KeyValuePair<string, object?>("policy", verdict.Policy!.Name));
            problem = RateLimitProblems.Limited(verdict.Policy, verdict.Rate);
        }
        else
        {
            var quota = verdict.Quota!.Value;
            Rejections.Add(1, new KeyValuePair<string, object?>("quota", TrafficGate.ApiCallsQuota));
            problem = UsageProblems.QuotaExceeded(TrafficGate.ApiCallsQuota, "API calls", quota.Limit, quota.Used, quota.Tier, quota.ResetsAt, time.GetUtcNow());
        }

        return ProblemWriter.WriteAsync(context, problem);
    }
}
