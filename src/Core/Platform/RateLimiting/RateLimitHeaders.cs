using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace AgentCrm.Core.Platform.RateLimiting;

/// <summary>
/// The headers every rate-limited response carries: the IETF httpapi draft's structured fields
/// (<c>RateLimit-Policy: "default";q=100;w=60</c>, <c>RateLimit: "default";r=42;t=18</c>), with a daily
/// quota as a second item when one applies, and the de-facto <c>X-RateLimit-Limit</c>,
/// <c>-Remaining</c> and <c>-Reset</c> for the rate policy. Every time is in whole seconds from now
/// (rounded up), never a timestamp, so client clocks do not matter.
/// </summary>
public static class RateLimitHeaders
{
    public const string Policy = "RateLimit-Policy";
    public const string RateLimit = "RateLimit";
    public const string Limit = "X-RateLimit-Limit";
    public const string Remaining = "X-RateLimit-Remaining";
    public const string Reset = "X-RateLimit-Reset";

    /// <summary>A daily quota shown beside the rate: its name, limit, what is left and when it resets.</summary>
    public readonly record struct QuotaItem(string Name, long Limit, long Remaining, TimeSpan ResetAfter);

    public static void Apply(IHeaderDictionary headers, RatePolicy? policy, in RateDecision decision, QuotaItem? quota)
    {
        string? policyField = null, rateField = null;
        if (policy is not null)
        {
            var reset = Seconds(decision.ResetAfter);
            policyField = $"\"{policy.Name}\";q={policy.Limit};w={(long)policy.Window.TotalSeconds}";
            rateField = $"\"{policy.Name}\";r={decision.Remaining};t={reset}";
            headers[Limit] = policy.Limit.ToString(CultureInfo.InvariantCulture);
            headers[Remaining] = decision.Remaining.ToString(CultureInfo.InvariantCulture);
            headers[Reset] = reset.ToString(CultureInfo.InvariantCulture);
        }

        if (quota is { } q)
        {
            var quotaPolicy = $"\"{q.Name}\";q={q.Limit};w=86400";
            var quotaRate = $"\"{q.Name}\";r={Math.Max(0, q.Remaining)};t={Seconds(q.ResetAfter)}";
            policyField = policyField is null ? quotaPolicy : $"{policyField}, {quotaPolicy}";
            rateField = rateField is null ? quotaRate : $"{rateField}, {quotaRate}";
        }

        if (policyField is not null)
        {
            headers[Policy] = policyField;
            headers[RateLimit] = rateField;
        }
    }

    /// <summary>Whole seconds, rounded up; at least one for a wait that is not zero.</summary>
    public static long Seconds(TimeSpan span) => span <= TimeSpan.Zero ? 0 : (long)Math.Ceiling(span.TotalMilliseconds / 1000);
}
