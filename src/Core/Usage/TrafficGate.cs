using AgentCrm.Core.Platform.RateLimiting;
using AgentCrm.Core.Platform.Redis;
using AgentCrm.Core.Platform.Security;

namespace AgentCrm.Core.Usage;

public enum TrafficOutcome
{
    Allowed,
    RateLimited,
    QuotaExceeded,
}

/// <summary>A workspace's API calls today against its quota, as the edge saw them.</summary>
public readonly record struct ApiCallQuota(long Limit, long Used, DateTimeOffset ResetsAt, string Tier)
{
    public long Remaining => Math.Max(0, Limit - Used);
}

/// <summary>What the edge decided for one request: the policy applied (null: none), the rate decision, and the daily quota when counted.</summary>
public sealed record TrafficVerdict(TrafficOutcome Outcome, RatePolicy? Policy, RateDecision Rate, ApiCallQuota? Quota)
{
    public static readonly TrafficVerdict Unchecked = new(TrafficOutcome.Allowed, null, default, null);
}

/// <summary>
/// The edge's rate limit and daily API-call quota (DESIGN.md §3, §6), decided in one Redis round trip.
/// Buckets: an anonymous caller's by address; a signed-in user's outside a workspace by user; inside a
/// workspace by workspace and user (or API key), with the policy multiplied by the workspace tier's
/// multiplier. The quota counts every call made in a workspace; the first call of a day (or the first
/// after Redis lost the counter) seeds it from the last flushed total, which costs one more round trip.
/// </summary>
public sealed class TrafficGate(RateLimitOptions rateLimits, TierPlans plans, RateLimiter limiter, ApiCallCounter counter, TimeProvider time)
{
    public const string ApiCallsQuota = "api-calls";

    /// <summary>False when both rate limits and quotas are off: nothing to check.</summary>
    public bool IsActive => rateLimits.Enabled || plans.QuotasEnabled;

    public async ValueTask<TrafficVerdict> CheckAsync(string policyName, Caller? caller, WorkspaceAccess? access, string clientAddress, CancellationToken cancellationToken)
    {
        var plan = access is null ? null : plans.For(access.Tier);
        var policy = rateLimits.Enabled ? rateLimits.Policy(policyName) : null;
        if (policy is not null && plan is not null)
        {
            policy = policy.Scaled(plan.RateMultiplier);
        }

        var now = time.GetUtcNow();
        var day = UsageKeys.Day(now);
        DailyCounter? daily = plan is not null && plans.QuotasEnabled
            ? new DailyCounter(UsageKeys.ApiCalls(access!.WorkspaceId, day), plan.ApiCallsPerDay, UsageKeys.CounterTtl(now))
            : null;
        if (policy is null && daily is null)
        {
            return TrafficVerdict.Unchecked;
        }

        var bucket = access is not null ? UsageKeys.WorkspaceBucket(access.WorkspaceId, policyName, access.Caller.PrincipalId)
            : caller is not null ? UsageKeys.PrincipalBucket(caller.PrincipalId, policyName)
            : UsageKeys.AddressBucket(clientAddress, policyName);
        var decision = await limiter.CheckAsync(policy, bucket, daily, cancellationToken);
        if (decision.Outcome == RateOutcome.CounterMissing)
        {
            try
            {
                daily = daily! with { Seed = await counter.SeedAsync(access!.WorkspaceId, day, daily.Ttl, cancellationToken) };
            }
            catch (RedisException)
            {
                daily = null; // Redis went away between the two calls: the limiter falls back, the call is not counted
            }

            decision = await limiter.CheckAsync(policy, bucket, daily, cancellationToken);
        }

        var quota = daily is not null && decision.CounterValue >= 0
            ? new ApiCallQuota(daily.Limit, decision.CounterValue, UsageKeys.NextMidnight(now), plan!.Tier)
            : (ApiCallQuota?)null;
        var outcome = decision.Outcome switch
        {
            RateOutcome.Limited => TrafficOutcome.RateLimited,
            RateOutcome.CounterExhausted => TrafficOutcome.QuotaExceeded,
            _ => TrafficOutcome.Allowed,
        };
        return new TrafficVerdict(outcome, policy, decision, quota);
    }
}
