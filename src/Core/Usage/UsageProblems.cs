using System.Globalization;
using AgentCrm.Core.Platform.Problems;

namespace AgentCrm.Core.Usage;

/// <summary>The problems of quotas (docs/errors.md): a daily quota used up, a tier's maximum reached.</summary>
public static class UsageProblems
{
    public static ProblemException QuotaExceeded(string quota, string what, long limit, long used, string tier, DateTimeOffset resetsAt, DateTimeOffset now) =>
        new(ProblemTypes.QuotaExceeded, string.Create(CultureInfo.InvariantCulture,
            $"The workspace has used its {limit:N0} {what} for today (the {tier} tier's quota {quota}); it resets at {resetsAt:yyyy-MM-ddTHH:mm:ssZ} (UTC midnight)."))
        {
            RetryAfter = resetsAt - now,
            Extensions = new Dictionary<string, object?>
            {
                ["quota"] = quota,
                ["limit"] = limit,
                ["used"] = used,
                ["tier"] = tier,
                ["resetsAt"] = resetsAt,
            },
        };

    /// <summary>A create that would take the workspace past its tier's maximum of <paramref name="kind"/> (contacts, campaigns).</summary>
    public static ProblemException TierLimitReached(string kind, int max, string tier) =>
        new(ProblemTypes.TierLimitReached, string.Create(CultureInfo.InvariantCulture,
            $"The {tier} tier allows at most {max:N0} {kind} in a workspace: delete some, or move to a larger tier."))
        {
            Extensions = new Dictionary<string, object?> { ["limit"] = kind, ["max"] = max, ["tier"] = tier },
        };
}
