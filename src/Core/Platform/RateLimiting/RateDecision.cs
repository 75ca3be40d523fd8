namespace AgentCrm.Core.Platform.RateLimiting;

public enum RateOutcome
{
    /// <summary>Within the rate (and the daily counter, when one was given, which now counts this request).</summary>
    Allowed,

    /// <summary>Over the rate: nothing was counted.</summary>
    Limited,

    /// <summary>Within the rate but the daily counter is at its limit: nothing was counted.</summary>
    CounterExhausted,

    /// <summary>The daily counter does not exist yet and no seed was given: nothing was counted; call again with one.</summary>
    CounterMissing,
}

/// <summary>
/// A count that a request must also fit, checked and incremented in the same atomic step as the rate
/// (a workspace's API calls today). <see cref="Seed"/> is its value when the key does not exist yet.
/// </summary>
public sealed record DailyCounter(string Key, long Limit, TimeSpan Ttl, long? Seed = null);

/// <summary>
/// What the limiter decided. <see cref="Remaining"/> requests can be made at once now; the bucket is full
/// again after <see cref="ResetAfter"/>; a refused request may be retried after <see cref="RetryAfter"/>.
/// <see cref="CounterValue"/> is the daily counter after this request (-1 when unknown or none).
/// <see cref="Local"/> says the in-process fallback decided (Redis unreachable).
/// </summary>
public readonly record struct RateDecision(
    RateOutcome Outcome, int Remaining, TimeSpan ResetAfter, TimeSpan RetryAfter, long CounterValue, bool Local)
{
    public bool IsAllowed => Outcome == RateOutcome.Allowed;
}
