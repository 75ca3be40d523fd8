using System.Globalization;
using AgentCrm.Core.Platform.Problems;

namespace AgentCrm.Core.Platform.RateLimiting;

public static class RateLimitProblems
{
    /// <summary>The 429 for a request over <paramref name="policy"/>: names the policy, its limit and window, and when to retry.</summary>
    public static ProblemException Limited(RatePolicy policy, in RateDecision decision)
    {
        var window = (long)policy.Window.TotalSeconds;
        var retry = ProblemWriter.RetryAfterSeconds(decision.RetryAfter);
        return new ProblemException(ProblemTypes.RateLimited, string.Create(CultureInfo.InvariantCulture,
            $"Over the \"{policy.Name}\" rate limit of {policy.Limit} requests per {window} s (bursts of up to {policy.Burst}); retry after {retry} s."))
        {
            RetryAfter = TimeSpan.FromSeconds(retry),
            Extensions = new Dictionary<string, object?>
            {
                ["policy"] = policy.Name,
                ["limit"] = policy.Limit,
                ["windowSeconds"] = window,
                ["burst"] = policy.Burst,
                ["retryAfterSeconds"] = retry,
            },
        };
    }
}
