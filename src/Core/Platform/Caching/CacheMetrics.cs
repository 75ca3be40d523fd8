using System.Diagnostics;
using System.Diagnostics.Metrics;
using AgentCrm.Core.Platform.Observability;

namespace AgentCrm.Core.Platform.Caching;

/// <summary>
/// Counters of one named cache: exported on <see cref="Telemetry.Meter"/> (tag <c>cache</c>, and
/// <c>layer</c> on hits) and kept as totals here for health and tests.
/// </summary>
public sealed class CacheMetrics
{
    private static readonly Counter<long> Hits = Telemetry.Meter.CreateCounter<long>("agentcrm.cache.hits", description: "Reads answered by a cache layer (layer l1 or l2).");
    private static readonly Counter<long> Misses = Telemetry.Meter.CreateCounter<long>("agentcrm.cache.misses", description: "Reads that went to the source.");
    private static readonly Counter<long> Evictions = Telemetry.Meter.CreateCounter<long>("agentcrm.cache.evictions", description: "L1 entries dropped to stay within the bound.");
    private static readonly Counter<long> Invalidations = Telemetry.Meter.CreateCounter<long>("agentcrm.cache.invalidations", description: "Keys and namespaces invalidated by writes here.");
    private static readonly Counter<long> Bypasses = Telemetry.Meter.CreateCounter<long>("agentcrm.cache.bypasses", description: "Reads sent straight to the source because Redis or its subscription was down.");
    private static readonly Counter<long> Errors = Telemetry.Meter.CreateCounter<long>("agentcrm.cache.redis_errors", description: "Redis commands of the cache that failed (caught; the read went on).");

    private readonly KeyValuePair<string, object?> _cache;
    private readonly TagList _l1;
    private readonly TagList _l2;
    private long _l1Hits;
    private long _l2Hits;
    private long _misses;
    private long _evictions;
    private long _invalidations;
    private long _bypasses;
    private long _errors;

    public CacheMetrics(string cache)
    {
        _cache = new("cache", cache);
        _l1 = new TagList { _cache, { "layer", "l1" } };
        _l2 = new TagList { _cache, { "layer", "l2" } };
    }

    internal void L1Hit()
    {
        Interlocked.Increment(ref _l1Hits);
        Hits.Add(1, _l1);
    }

    internal void L2Hit()
    {
        Interlocked.Increment(ref _l2Hits);
        Hits.Add(1, _l2);
    }

    internal void Miss()
    {
        Interlocked.Increment(ref _misses);
        Misses.Add(1, _cache);
    }

    internal void Evicted(int count)
    {
        if (count > 0)
        {
            Interlocked.Add(ref _evictions, count);
            Evictions.Add(count, _cache);
        }
    }

    internal void Invalidated(int count = 1)
    {
        Interlocked.Add(ref _invalidations, count);
        Invalidations.Add(count, _cache);
    }

    internal void Bypassed()
    {
        Interlocked.Increment(ref _bypasses);
        Bypasses.Add(1, _cache);
    }

    internal void RedisFailed()
    {
        Interlocked.Increment(ref _errors);
        Errors.Add(1, _cache);
    }

    public CacheStatistics Snapshot(string name, int l1Entries) => new(
        name, Volatile.Read(ref _l1Hits), Volatile.Read(ref _l2Hits), Volatile.Read(ref _misses), Volatile.Read(ref _evictions),
        Volatile.Read(ref _invalidations), Volatile.Read(ref _bypasses), Volatile.Read(ref _errors), l1Entries);
}

/// <summary>Totals of one cache since start. <see cref="HitRatio"/> counts hits of either layer over reads that used the cache.</summary>
public sealed record CacheStatistics(
    string Name, long L1Hits, long L2Hits, long Misses, long Evictions, long Invalidations, long Bypasses, long RedisErrors, int L1Entries)
{
    public double HitRatio => L1Hits + L2Hits + Misses == 0 ? 0 : Math.Round((double)(L1Hits + L2Hits) / (L1Hits + L2Hits + Misses), 4);
}
