using AgentCrm.Core.Platform.Configuration;

namespace AgentCrm.Core.Platform.RateLimiting;

/// <summary>
/// Rate limits: on or off, each policy's per-minute limit and burst, how many proxies' X-Forwarded-For
/// entries to trust for anonymous callers' addresses, and the bound on the in-process fallback's buckets.
/// </summary>
public sealed record RateLimitOptions(bool Enabled, IReadOnlyDictionary<string, RatePolicy> Policies, int TrustedProxyHops, int LocalMaxBuckets)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    public static RateLimitOptions Read(SettingsReader settings)
    {
        var policies = new Dictionary<string, RatePolicy>(StringComparer.Ordinal);
        foreach (var (name, perMinute) in RatePolicies.Defaults)
        {
            var section = $"RateLimits:{char.ToUpperInvariant(name[0])}{name[1..]}";
            var limit = settings.WholeNumber($"{section}:Limit", perMinute, 1, 1_000_000_000);
            var burst = settings.WholeNumber($"{section}:Burst", limit, 1, 1_000_000_000);
            policies[name] = new RatePolicy(name, limit, burst, Window);
        }

        return new RateLimitOptions(
            settings.Bool("RateLimits:Enabled", true),
            policies,
            settings.WholeNumber("RateLimits:TrustedProxyHops", 1, 0, 10),
            settings.WholeNumber("RateLimits:LocalMaxBuckets", 100_000, 100, 10_000_000));
    }

    public RatePolicy Policy(string name) =>
        Policies.TryGetValue(name, out var policy) ? policy : throw new ArgumentException($"No rate-limit policy named \"{name}\".", nameof(name));
}
