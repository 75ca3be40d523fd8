using AgentCrm.Core.Platform.Configuration;

namespace AgentCrm.Core.Platform.Caching;

/// <summary>
/// The layered cache (DESIGN.md §6): L1 in-process, bounded per named cache, over L2 in Redis, over the
/// source. <see cref="AccessTtl"/> is the lifetime of membership and API-key entries in both layers, so
/// a tier or role changed outside the app's own write paths shows within that time.
/// </summary>
public sealed record CachingOptions(bool Enabled, int L1MaxEntries, TimeSpan L1Ttl, TimeSpan L2Ttl, TimeSpan AccessTtl, TimeSpan WarmupBudget)
{
    /// <summary>Warm-up runs before the app listens; this is its hard ceiling (the bound).</summary>
    public static readonly TimeSpan MaxWarmup = TimeSpan.FromSeconds(2);

    public static CachingOptions Read(SettingsReader settings)
    {
        var l1 = settings.WholeNumber("Cache:L1Seconds", 300, 1, 86_400);
        var l2 = settings.WholeNumber("Cache:L2Seconds", 900, 1, 7 * 86_400);
        if (l2 < l1)
        {
            settings.Report("Cache:L2Seconds", $"must be at least Cache:L1Seconds ({l1}): L1 copies never outlive L2's", "900");
        }

        return new CachingOptions(
            settings.Bool("Cache:Enabled", true),
            settings.WholeNumber("Cache:L1MaxEntries", 500, 1, 1_000_000),
            TimeSpan.FromSeconds(l1),
            TimeSpan.FromSeconds(l2),
            TimeSpan.FromSeconds(settings.WholeNumber("Cache:MembershipSeconds", 300, 1, 86_400)),
            TimeSpan.FromMilliseconds(settings.WholeNumber("Cache:WarmupMs", 1_500, 0, (int)MaxWarmup.TotalMilliseconds)));
    }

    /// <summary>The policy of a cache that uses the general lifetimes.</summary>
    public CachePolicy Policy(string name) => new(name, Enabled, L1MaxEntries, L1Ttl, L2Ttl);

    /// <summary>The policy of a cache of access decisions (memberships, API keys): <see cref="AccessTtl"/> in both layers.</summary>
    public CachePolicy AccessPolicy(string name) => new(name, Enabled, L1MaxEntries, AccessTtl, AccessTtl);
}

/// <summary>One named cache's options. Names appear in Redis keys, metrics and health: short, stable, no colon.</summary>
public sealed record CachePolicy(string Name, bool Enabled, int L1MaxEntries, TimeSpan L1Ttl, TimeSpan L2Ttl);
