using System.Text.Json.Serialization.Metadata;

namespace AgentCrm.Core.Platform.Caching;

/// <summary>Makes the named caches (each registered with the bus, so invalidations and health reach it).</summary>
public sealed class CacheFactory(CacheBus bus, CachingOptions options, TimeProvider time)
{
    public CachingOptions Options => options;

    public LayeredCache<T> Create<T>(CachePolicy policy, JsonTypeInfo<T> json)
        where T : class => new(policy, json, bus, time);

    /// <summary>Every named cache's totals, by name.</summary>
    public IReadOnlyList<CacheStatistics> Statistics() => [.. bus.Caches.Select(c => c.Statistics()).OrderBy(s => s.Name, StringComparer.Ordinal)];
}
